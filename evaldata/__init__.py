"""The evaluation data of ``../shared/eval`` as the benchmarks (``bench/``) and the training (``training/``) both read
it: one place for the SQuAD 2.0 corpus and its folds, so that the two never import each other's helpers.

Run from the repository root (``python -m bench.run``, ``python -m training.reader``): this folder is found there.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
EVAL = REPO.parent / "shared" / "eval"  # read in place, never downloaded
CACHE = Path.home() / ".cache" / "qa"  # training checkpoints and fold readers: outside the work tree, so a later checkout resumes them


def write_corpus(folder: Path, documents: Iterable[tuple[str, str]]) -> list[Path]:
    """Write (file name, text) pairs as UTF-8 files; files whose bytes are unchanged are left alone (so an index
    built over them before embeds nothing new)."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for name, text in documents:
        path = folder / name
        data = text.encode("utf-8")
        if not path.exists() or path.read_bytes() != data:
            path.write_bytes(data)
        paths.append(path)
    return paths

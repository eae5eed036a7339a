"""A fresh process that opens an index and answers one question: cold start and memory.

Parent side: ``measure(index_dir, question)`` starts ``python -m bench.probe`` and
stops its clock when the child reports its first answer. Child side: ``main``
times each stage (import, load the index, load the model, answer) and reads its
resident memory after each.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from .common import REPO, rss_mib


@dataclass(frozen=True)
class Probe:
    wall_s: float  # from starting the process to the first answer, measured by the parent
    import_s: float
    load_s: float  # Index.load
    model_s: float  # loading the embedding model (on first use)
    answer_s: float  # the first answer, model already loaded
    rss_import_mib: float
    rss_load_mib: float
    rss_model_mib: float
    rss_answer_mib: float
    answered: bool

    @property
    def index_mib(self) -> float:
        """Memory the loaded index adds to the process (its data and the faiss/bm25s libraries)."""
        return self.rss_load_mib - self.rss_import_mib


def measure(index_dir: Path, question: str, backend: str | None = None) -> Probe:
    """Start a probe process (with ``QA_BACKEND=backend`` when given) and time it to its first answer."""
    env = {**os.environ, "QA_BACKEND": backend} if backend else None
    start = time.perf_counter()
    child = subprocess.Popen([sys.executable, "-m", "bench.probe", str(index_dir), question], cwd=REPO,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    assert child.stdout is not None
    line = child.stdout.readline()
    wall = time.perf_counter() - start
    _, errors = child.communicate()
    if child.returncode or not line:
        raise RuntimeError(f"the probe failed: {errors.strip()[-2000:]}")
    return Probe(wall_s=wall, **json.loads(line))


def main(index_dir: str, question: str) -> None:
    start = time.perf_counter()
    stages: dict[str, float] = {}
    from qa import Index
    from qa.settings import from_environment

    stages["import_s"], stages["rss_import_mib"] = time.perf_counter() - start, rss_mib()
    start = time.perf_counter()
    index = Index.load(index_dir, settings=from_environment(os.environ))  # a program of its own: QA_BACKEND is its to read
    stages["load_s"], stages["rss_load_mib"] = time.perf_counter() - start, rss_mib()
    start = time.perf_counter()
    _ = index.embedder
    stages["model_s"], stages["rss_model_mib"] = time.perf_counter() - start, rss_mib()
    start = time.perf_counter()
    answer = index.answer(question)
    stages["answer_s"], stages["rss_answer_mib"] = time.perf_counter() - start, rss_mib()
    print(json.dumps({**stages, "answered": answer.answered}), flush=True)


if __name__ == "__main__":
    main(*sys.argv[1:3])

"""Sources that are not plain files: named pipes never hang a build, broken and looping symbolic links and
undecodable file names are skipped with a warning (fake embedder)."""

from __future__ import annotations

import os
import signal
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from qa import Index
from qa.cli import main
from qa.errors import SkippedFileWarning

from helpers import SEED_FILE


@contextmanager
def deadline(seconds: int) -> Iterator[None]:
    """Fail instead of hanging forever (reading a named pipe blocks until someone writes to it)."""

    def expired(*_: object) -> None:
        raise TimeoutError(f"still running after {seconds} s: the build is waiting on a pipe")

    previous = signal.signal(signal.SIGALRM, expired)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


def build(paths: list[Path], index_dir: Path, embedder) -> tuple[Index, dict[str, str]]:
    with deadline(60), warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        index = Index.build(paths, index_dir, embedder=embedder)
    assert all(issubclass(w.category, SkippedFileWarning) for w in caught)
    return index, {item.path: item.reason for item in index.report.skipped}


def odd_entries(folder: Path) -> dict[str, Path]:
    """A named pipe, a broken link, a link to itself and a link to a file outside the folder."""
    entries = {"pipe": folder / "pipe.txt", "broken": folder / "broken.txt", "loop": folder / "loop.txt",
               "outside": folder / "outside.txt"}
    os.mkfifo(entries["pipe"])
    os.symlink(folder / "gone.txt", entries["broken"])
    os.symlink(entries["loop"], entries["loop"])
    os.symlink(SEED_FILE, entries["outside"])
    return entries


REASONS = {
    "pipe": "not a regular file (a named pipe, socket or device)",
    "broken": "a broken symbolic link: what it points to does not exist",
    "loop": "a symbolic link that loops back to itself",
}


def test_odd_entries_in_a_folder_are_skipped_with_a_reason(tmp_path, fake_embedder):
    folder = tmp_path / "notes"
    folder.mkdir()
    entries = odd_entries(folder)
    index, skipped = build([folder], tmp_path / "index", fake_embedder)
    assert skipped == {str(entries[kind]): reason for kind, reason in REASONS.items()}
    assert [d.path for d in index.documents] == [str(SEED_FILE.resolve())]  # a link to a real file is followed


@pytest.mark.parametrize("kind", ["pipe", "broken", "loop"])
def test_odd_entries_named_directly_are_skipped_with_a_reason(tmp_path, fake_embedder, kind):
    folder = tmp_path / "notes"
    folder.mkdir()
    entries = odd_entries(folder)
    index, skipped = build([entries[kind], SEED_FILE], tmp_path / "index", fake_embedder)
    assert skipped == {str(entries[kind]): REASONS[kind]}
    assert len(index.documents) == 1


def test_a_file_name_that_is_not_utf8_is_skipped_with_a_reason(tmp_path, fake_embedder):
    folder = tmp_path / "notes"
    folder.mkdir()
    name = os.fsdecode(b"caf\xe9.txt")  # Latin-1 bytes in a file name: not UTF-8
    (folder / name).write_text("The cafe opens at nine in the morning.\n", encoding="utf-8")
    (folder / "ok.txt").write_text("The harbour opens at ten in the morning.\n", encoding="utf-8")
    index, skipped = build([folder], tmp_path / "index", fake_embedder)
    assert skipped == {str(folder / name): "the file name is not valid UTF-8; rename the file"}
    assert [d.source for d in index.documents] == ["ok.txt"]
    assert Index.load(tmp_path / "index", embedder=fake_embedder).documents == index.documents


def test_qa_index_warns_once_per_odd_entry(tmp_path, fake_model_env, capsys):
    folder = tmp_path / "notes"
    folder.mkdir()
    odd_entries(folder)
    with deadline(60):
        assert main(["index", str(folder), "--index", str(tmp_path / "index")]) == 0
    out, err = capsys.readouterr()
    lines = err.splitlines()
    assert "3 skipped" in out and len(lines) == 3
    assert all(line.startswith("qa: warning: skipped ") for line in lines)
    assert any("pipe.txt: not a regular file" in line for line in lines)


def test_a_link_to_a_folder_is_read_like_a_folder_and_a_link_back_up_ends(tmp_path, fake_embedder):
    kept = tmp_path / "kept-elsewhere"
    kept.mkdir()
    (kept / "harbour.txt").write_text("The harbour master counts 41 boats every morning.\n", encoding="utf-8")
    folder = tmp_path / "notes"
    folder.mkdir()
    os.symlink(kept, folder / "linked")  # a folder of seeds kept elsewhere
    os.symlink(folder, folder / "back-up")  # a link to the folder itself: walked once, not forever
    index, skipped = build([folder], tmp_path / "index", fake_embedder)
    assert skipped == {} and [d.path for d in index.documents] == [str((kept / "harbour.txt").resolve())]
    from qa.app.folders import listed_sources

    assert [s.relative for s in listed_sources(folder, "seed")] == ["linked/harbour.txt"]

"""Builds that meet a changing world: a file saved while it is indexed, a full disk, a file changed since indexing.
Both stores (``BOTH_STORES``) but where marked; the fake embedder."""

from __future__ import annotations

from pathlib import Path

import pytest

from qa import Index
from qa.errors import SourceChangedError

from helpers import REPO, FakeEmbedder, folder_only

BOTH_STORES = True


class EditingEmbedder(FakeEmbedder):
    """Saves ``edits`` to ``path`` while it embeds, one per embedding call, as a user saving a file mid-build."""

    def __init__(self, path: Path, edits: list[str]) -> None:
        super().__init__()
        self.path, self.edits = path, edits

    def embed(self, texts, **kwargs):
        if self.edits:
            self.path.write_text(self.edits.pop(0), encoding="utf-8")
        return super().embed(texts, **kwargs)


def test_a_file_saved_while_it_is_embedded_is_indexed_as_saved(tmp_path, index_location):
    notes = tmp_path / "notes.txt"
    notes.write_text("The keeper lit the lamp in 1874. It burned whale oil for forty years.\n", encoding="utf-8")
    saved = "A new first line pushes every offset on.\nThe keeper lit the lamp in 1874. It burned whale oil for forty years.\n"
    index = Index.build([notes], index_location, embedder=EditingEmbedder(notes, [saved]))
    assert index.corpus.documents[0].text == saved == notes.read_text(encoding="utf-8")
    passage = index.retrieve("When was the lamp lit?", k=1)[0]
    assert saved[passage.start : passage.end] == passage.text


def test_a_file_that_keeps_changing_leaves_the_index_as_it_was(tmp_path, index_location, fake_embedder):
    notes = tmp_path / "notes.txt"
    notes.write_text("The keeper lit the lamp in 1874. It burned whale oil for forty years.\n", encoding="utf-8")
    before = Index.build([notes], index_location, embedder=fake_embedder)
    edits = [f"Version {n}: the keeper lit the lamp in 1874. It burned whale oil.\n" for n in range(6)]
    notes.write_text("An edit to index, then more edits while it is embedded.\n" + notes.read_text(encoding="utf-8"))
    with pytest.raises(SourceChangedError, match=r"changed while it was being indexed.*Index again"):
        Index.build([notes], index_location, embedder=EditingEmbedder(notes, edits))
    after = Index.load(index_location, embedder=fake_embedder)
    assert after.corpus.documents == before.corpus.documents


def test_an_answer_says_when_a_quoted_file_changed_since_it_was_indexed(tmp_path, index_location, fake_embedder):
    notes = tmp_path / "notes.txt"
    notes.write_text("The keeper lit the lamp in 1874. It burned whale oil for forty years.\n", encoding="utf-8")
    index = Index.build([notes], index_location, embedder=fake_embedder)
    first = index.answer("When did the keeper light the lamp?")
    assert first.citations and not any(c.source_changed for c in first.citations)
    notes.write_text("Edited: the lamp was first lit in 1875 by the keeper.\n", encoding="utf-8")
    later = index.answer("When did the keeper light the lamp?")
    assert later.citations and all(c.source_changed for c in later.citations)
    assert "has changed since it was indexed" in later.to_text() and later.to_dict()["citations"][0]["source_changed"]


@folder_only
def test_a_full_disk_says_so_and_the_previous_index_still_answers(seed_corpus, tmp_path, fake_embedder):
    import resource
    import signal
    import subprocess
    import sys

    index_dir = tmp_path / "index"
    Index.build([seed_corpus], index_dir, embedder=fake_embedder)
    (seed_corpus / "more.txt").write_text("The harbour master counted 40 ships in the bay that winter. " * 200, encoding="utf-8")

    def small_files() -> None:  # a file-size limit: writes past it fail as on a full disk (EFBIG), not with a signal
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (4000, 4000))

    result = subprocess.run([sys.executable, str(REPO / "tests" / "fake_model.py"), "cli", "index", str(seed_corpus),
                             "--index", str(index_dir)], capture_output=True, text=True, timeout=120, preexec_fn=small_files,
                            check=False)
    assert result.returncode == 1, result.stderr
    assert result.stderr.startswith("qa: error: The disk is full") and "Traceback" not in result.stderr
    assert "previous one still answers" in result.stderr and str(index_dir) in result.stderr
    assert len(list(index_dir.glob("gen-*"))) == 1
    assert Index.load(index_dir, embedder=fake_embedder).retrieve("How many Russian peacekeepers were deployed?", k=1)


def test_a_full_disk_is_told_apart_from_other_failures() -> None:
    import errno

    from qa.errors import disk_full

    assert disk_full(OSError(errno.ENOSPC, "No space left on device")) and disk_full(OSError(errno.EFBIG, "File too large"))
    assert disk_full(RuntimeError("Error in faiss::FileIOWriter: fwrite(...) failed: No space left on device"))
    assert not disk_full(OSError(errno.EACCES, "Permission denied")) and not disk_full(RuntimeError("bad index"))

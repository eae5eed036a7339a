"""Uploads never destroy what was there; seeds may be links; the page's upload handler leaves no temporary
copies; paths shown to clients are library paths (fake embedder, fault injection)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from qa import Index
from qa.app import Library, Service
from qa.errors import IndexLockedError
from qa.index.stores.folder_files import writer_lock

from helpers import SEED_FILE, FakeEmbedder

OLD = b"The Tarrow Point lighthouse was first lit in 1874 by its keeper, Edith Marrow.\n"
NEW = b"The Tarrow Point lighthouse was rebuilt in 1902 after a storm.\n"
LATIN1 = "Le phare fut allum\xe9 en 1874 par la gardienne.\n".encode("latin-1")  # not UTF-8: cannot be indexed


@pytest.fixture
def library(seed_corpus: Path, tmp_path: Path) -> Library:
    return Library(seed_corpus, tmp_path / "data")


@pytest.fixture
def service(library: Library, tmp_path: Path, fake_model_env) -> Service:
    service = Service.start(library, tmp_path / "index")
    service.add([incoming(tmp_path, "notes.txt", OLD)])
    return service


def incoming(tmp_path: Path, name: str, data: bytes) -> tuple[Path, str]:
    path = tmp_path / "incoming" / name
    path.parent.mkdir(exist_ok=True)
    path.write_bytes(data)
    return path, name


def stored(service: Service) -> Path:
    return service.library.uploads / "notes.txt"


def assert_old_notes_kept(service: Service) -> None:
    """The earlier notes.txt is on disk, in the live index and in the index on disk, with its passages."""
    assert stored(service).read_bytes() == OLD
    path = str(stored(service).resolve())
    for index in (service.index, Index.load(service.index_dir)):
        docs = [d for d in index.documents if d.path == path]
        assert len(docs) == 1 and docs[0].text == OLD.decode()
    assert {row.source.name: row.passages for row in service.sources()}["notes.txt"] == 1
    assert sorted(p.name for p in service.library.uploads.iterdir()) == ["notes.txt"]  # nothing kept aside


def test_a_reupload_that_cannot_be_indexed_keeps_the_earlier_file_and_its_passages(service, tmp_path):
    change = service.add([incoming(tmp_path, "notes.txt", LATIN1)])
    assert change.added == () and [r.path for r in change.rejected] == ["notes.txt"]
    assert "not valid UTF-8" in change.rejected[0].reason and "notes.txt" in change.summary()
    assert_old_notes_kept(service)


def test_a_reupload_while_another_process_writes_the_index_keeps_the_earlier_file(service, tmp_path, monkeypatch):
    monkeypatch.setattr("qa.index.stores.manifest.LOCK_WAIT_SECONDS", 0.05)
    before = service.index
    with writer_lock(service.index_dir), pytest.raises(IndexLockedError, match="Another process is writing"):
        service.add([incoming(tmp_path, "notes.txt", NEW), incoming(tmp_path, "other.txt", NEW)])
    assert service.index is before
    assert_old_notes_kept(service)


def test_a_build_that_fails_in_any_way_puts_the_earlier_file_back(service, tmp_path, monkeypatch):
    def crash(*args, **kwargs):
        raise RuntimeError("simulated failure in the middle of a build")

    with monkeypatch.context() as patch, pytest.raises(RuntimeError, match="simulated"):
        patch.setattr("qa.app.service.Index.build", crash)
        service.add([incoming(tmp_path, "notes.txt", NEW)])
    assert_old_notes_kept(service)


def test_a_file_the_build_leaves_out_after_all_puts_the_earlier_one_back_in_the_index(service, tmp_path, monkeypatch):
    """Checked when staged, unreadable when indexed (changed meanwhile): the earlier file and its passages return."""
    monkeypatch.setattr("qa.app.library.check_source", lambda path, budget=None: None)
    change = service.add([incoming(tmp_path, "notes.txt", LATIN1)])
    assert change.added == () and "not valid UTF-8" in change.rejected[0].reason
    assert_old_notes_kept(service)


def test_a_successful_reupload_replaces_the_file_and_its_passages(service, tmp_path):
    assert service.add([incoming(tmp_path, "notes.txt", NEW)]).added == ("notes.txt",)
    assert stored(service).read_bytes() == NEW
    assert [d.text for d in service.index.documents if d.source == "notes.txt"] == [NEW.decode()]
    assert sorted(p.name for p in service.library.uploads.iterdir()) == ["notes.txt"]


def test_an_upload_cut_short_by_a_crash_is_undone_at_the_next_start(service, library, tmp_path, caplog):
    library.stage(*incoming(tmp_path, "notes.txt", NEW))  # put in place, never committed: the process died
    assert stored(service).read_bytes() == NEW
    again = Service.start(library, service.index_dir)
    assert "an upload of notes.txt was cut short" in caplog.text
    assert_old_notes_kept(again)


# ----- seeds that are symbolic links ---------------------------------------------------


def test_a_seed_that_links_to_a_file_elsewhere_works(library, tmp_path, fake_model_env):
    elsewhere = tmp_path / "elsewhere" / "harbour-notes.md"
    elsewhere.parent.mkdir()
    elsewhere.write_text("The harbour master counts 41 boats every morning.\n", encoding="utf-8")
    os.symlink(elsewhere, library.seeds / "harbour.md")
    service = Service.start(library, tmp_path / "index")
    rows = {row.source.relative: row for row in service.sources()}
    assert rows["harbour.md"].passages == 1 and rows["harbour.md"].source.path == str(elsewhere.resolve())
    assert service.retrieve("How many boats does the harbour master count?", 1)[0].path == str(elsewhere.resolve())
    assert service.library.relative_paths()[str(elsewhere.resolve())] == "harbour.md"
    service.remove(rows["harbour.md"].source.path)
    assert library.excluded() == {"harbour.md"} and elsewhere.exists()
    assert "harbour.md" not in {row.source.relative for row in service.sources()}


# ----- the page's upload handler: messages and temporary copies -------------------------

gr = pytest.importorskip("gradio")
librarytab = pytest.importorskip("qa.app.librarytab")


def gradio_upload(library: Library, name: str, data: bytes) -> dict:
    """What Gradio hands the handler: the file it stored under data/tmp/<hash>/, and the user's name for it."""
    path = library.incoming / "0123abcd" / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return {"path": str(path), "orig_name": name, "meta": {"_type": "gradio.FileData"}}


def no_progress(*args, **kwargs) -> None:
    return None


@pytest.mark.parametrize(
    ("name", "data", "message"),
    [
        ("lighthouse.md", NEW, "Indexed lighthouse.md"),
        (".txt", NEW, "&#x27;.txt&#x27; is only a file type, with no name before it. Rename the file"),
        ("..md", NEW, "&#x27;..md&#x27; is only a file type"),
        ("._.txt", NEW, "is not a usable file name. Rename the file"),
        ("latin.txt", LATIN1, "latin.txt: not valid UTF-8 text"),
        ("tool.exe", b"MZ", "tool.exe: unsupported file type"),
        ("empty.txt", b"", "empty.txt is empty"),
    ],
)
def test_every_upload_gets_a_clear_message_and_its_temporary_copy_is_deleted(service, name, data, message):
    upload = gradio_upload(service.library, name, data)
    cleared, status, *_ = librarytab.add_files(service, [upload], no_progress)
    assert cleared is None and message in status
    assert not any(service.library.incoming.rglob("*"))  # the copy and Gradio's folder around it are gone


@pytest.mark.parametrize("failure", [IndexLockedError("Another process is writing the index."), RuntimeError("boom")])
def test_temporary_copies_are_deleted_when_indexing_fails(service, monkeypatch, failure):
    def fail(*args, **kwargs):
        raise failure

    monkeypatch.setattr(service, "add", fail)
    _, status, *_ = librarytab.add_files(service, [gradio_upload(service.library, "notes.txt", NEW)], no_progress)
    assert 'class="qa-error"' in status and "boom" not in status
    assert not any(service.library.incoming.rglob("*"))
    assert_old_notes_kept(service)


def test_the_handler_never_deletes_a_file_outside_the_upload_folder(service, tmp_path):
    outside = tmp_path / "precious.txt"
    outside.write_bytes(NEW)
    librarytab.add_files(service, [{"path": str(outside), "orig_name": "precious.txt"}, str(outside)], no_progress)
    assert outside.read_bytes() == NEW


# ----- one index per request ------------------------------------------------------------


def test_sources_reads_the_live_index_once_even_if_a_rebuild_swaps_it(service, tmp_path, fake_model_env):
    """Fault injection: every read of the live index after the first returns an index with fewer documents."""
    full = service.index
    smaller = Index.build([service.library.paths()[-1]], tmp_path / "other-index", embedder=FakeEmbedder())
    reads = []

    class Swapping(Service):
        @property
        def _index(self):
            reads.append(1)
            return full if len(reads) == 1 else smaller

        @_index.setter
        def _index(self, value):
            pass

    swapping = Swapping(service.library, service.index_dir, full)
    rows = swapping.sources()
    assert len(reads) == 1
    counts = {row.source.name: row.passages for row in rows}
    assert counts == {row.source.name: row.passages for row in service.sources()} and all(counts.values())


def test_an_upload_of_two_files_cut_short_is_undone_whole_and_the_temporary_copies_go(service, library, tmp_path, caplog):
    library.stage(*incoming(tmp_path, "notes.txt", NEW))  # replaces an earlier upload
    library.stage(*incoming(tmp_path, "harbour.txt", NEW))  # a new name; then the process died, before the commit
    gradio = library.incoming / "0123abcd"  # the web server's temporary copies of the upload
    gradio.mkdir(parents=True)
    (gradio / "harbour.txt").write_bytes(NEW)
    again = Service.start(library, service.index_dir)
    assert "an upload of notes.txt was cut short" in caplog.text and "an upload of harbour.txt was cut short" in caplog.text
    assert_old_notes_kept(again)
    assert "harbour.txt" not in {s.name for s in library.sources()}
    assert "harbour.txt" not in {d.source for d in again.index.documents}
    assert sorted(p.name for p in library.uploads.iterdir()) == ["notes.txt"]
    assert list(library.incoming.iterdir()) == []


def test_the_lock_message_names_no_server_path(service, tmp_path, monkeypatch):
    monkeypatch.setattr("qa.index.stores.manifest.LOCK_WAIT_SECONDS", 0.05)
    with writer_lock(service.index_dir), pytest.raises(IndexLockedError) as caught:
        service.add([incoming(tmp_path, "other.txt", NEW)])
    assert "Another process is writing" in str(caught.value) and str(tmp_path) not in str(caught.value)


def test_hostile_seeds_leave_the_app_starting_without_them_and_saying_why(library, tmp_path, fake_model_env, caplog):
    from helpers.documents import LAUGHS, zipped

    seeds = library.seeds
    (seeds / "laughs.docx").write_bytes(zipped([("word/document.xml", LAUGHS)]))
    (seeds / "package.epub").write_bytes(zipped([("mimetype", b"application/epub+zip"), ("OEBPS/content.opf", LAUGHS)]))
    service = Service.start(library, tmp_path / "index")
    assert {d.source for d in service.index.documents} == {SEED_FILE.name}
    for name in ("laughs.docx", "package.epub"):
        assert sum(name in r.getMessage() and "entities" in r.getMessage() for r in caplog.records) == 1

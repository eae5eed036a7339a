"""Damaged indexes are detected in one line and rebuilt (by `qa index`, `Index.build` and app start);
bytes changed in place are caught by checksums; killed builds leave nothing behind (fake embedder)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import warnings
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from qa import Index, QAError
from qa.app import Library, Service
from qa.cli import main
from qa.errors import IndexCorruptError, IndexFolderError, IndexLockedError
from qa.index.stores import folder_files as storage
from qa.index.stores import manifest as manifests

from helpers import REPO, FakeEmbedder


def live(index_dir: Path) -> Path:
    return storage.current_folder(index_dir)


def assert_one_line(error: QAError) -> None:
    message = str(error)
    assert message and "\n" not in message and "qa index" in message, message


def rebuild(corpus: Path, index_dir: Path, embedder: FakeEmbedder) -> tuple[Index, list[str]]:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        index = Index.build([corpus], index_dir, embedder=embedder)
    return index, [str(w.message) for w in caught]


# ----- damaged pointer and manifest -----------------------------------------------------


def _manifest(value: bytes) -> Callable[[Path], None]:
    def damage(index_dir: Path) -> None:
        (live(index_dir) / storage.MANIFEST).write_bytes(value)

    return damage


def _current_folder(index_dir: Path) -> None:
    (index_dir / "CURRENT").unlink()
    (index_dir / "CURRENT").mkdir()
    (index_dir / "CURRENT" / "x").write_text("x", encoding="utf-8")


def _current_link(target: str) -> Callable[[Path], None]:
    def damage(index_dir: Path) -> None:
        (index_dir / "CURRENT").unlink()
        os.symlink(target, index_dir / "CURRENT")

    return damage


def _fifo(where: Callable[[Path], Path]) -> Callable[[Path], None]:
    """A named pipe in place of an index file: reading it would block forever."""
    def damage(index_dir: Path) -> None:
        path = where(index_dir)
        path.unlink()
        os.mkfifo(path)

    return damage


def _edit_manifest(change: Callable[[dict], None]) -> Callable[[Path], None]:
    def damage(index_dir: Path) -> None:
        path = live(index_dir) / storage.MANIFEST
        manifest = json.loads(path.read_text(encoding="utf-8"))
        change(manifest)
        path.write_text(json.dumps(manifest), encoding="utf-8")

    return damage


DAMAGES = {
    "manifest is a list": _manifest(b"[1, 2, 3]"),
    "manifest is null": _manifest(b"null"),
    "manifest is a string": _manifest(b'"manifest"'),
    "manifest not UTF-8": _manifest(b'{"format": "\xff\xfe"}'),
    "manifest files a list": _edit_manifest(lambda m: m.update(files=[1, 2])),
    "manifest files of numbers": _edit_manifest(lambda m: m.update(files={k: 1 for k in m["files"]})),
    "manifest without files": _edit_manifest(lambda m: m.pop("files")),
    "CURRENT not UTF-8": lambda index_dir: (index_dir / "CURRENT").write_bytes(b"\xff\xfe\x00gen"),
    "CURRENT a folder": _current_folder,
    "CURRENT a dangling link": _current_link("gen-nowhere"),
    "CURRENT a link to itself": _current_link("CURRENT"),
    "CURRENT a FIFO": _fifo(lambda index_dir: index_dir / "CURRENT"),
    "manifest a FIFO": _fifo(lambda index_dir: live(index_dir) / storage.MANIFEST),
    "chunks a FIFO": _fifo(lambda index_dir: live(index_dir) / "chunks.npy"),
    "generation folder gone": lambda index_dir: __import__("shutil").rmtree(live(index_dir)),
}


@pytest.mark.parametrize("damage", DAMAGES.values(), ids=DAMAGES.keys())
def test_a_damaged_index_is_reported_in_one_line_and_rebuilt(fake_index, seed_corpus, tmp_path, damage):
    index_dir = tmp_path / "index"
    damage(index_dir)
    with pytest.raises(IndexCorruptError) as error:
        Index.load(index_dir, embedder=FakeEmbedder())
    assert_one_line(error.value)
    counting = FakeEmbedder()
    index, caught = rebuild(seed_corpus, index_dir, counting)
    assert counting.calls  # built again from the sources
    assert any(message.startswith("rebuilding the whole index: ") and "\n" not in message for message in caught)
    assert (index_dir / "CURRENT").is_file() and not (index_dir / "CURRENT").is_symlink()
    assert Index.load(index_dir, embedder=FakeEmbedder()).documents == index.documents == fake_index.documents


def test_documents_of_the_wrong_shape_are_corrupt_not_a_crash(fake_index, tmp_path):
    """Even with checksums that match (a bug, or a hand-edited index), reading never raises anything else."""
    folder = live(tmp_path / "index")
    manifest = json.loads((folder / storage.MANIFEST).read_text(encoding="utf-8"))
    for rows in (b"[1, 2]\n", b"1\n", b'{"path": null}\n', b'{"path": "a", "source": "a", "text": "t", "sha256": "", '
                 b'"page_starts": null, "title": ""}\n'):
        (folder / "documents.jsonl").write_bytes(rows)
        manifest["files"] = storage.file_digests(folder)
        (folder / storage.MANIFEST).write_text(json.dumps(manifest), encoding="utf-8")
        with pytest.raises(IndexCorruptError) as error:
            Index.load(tmp_path / "index", embedder=FakeEmbedder())
        assert_one_line(error.value)


def test_qa_index_rebuilds_a_damaged_index_with_a_one_line_warning(fake_index, fake_model_env, seed_corpus, tmp_path, capsys):
    index_dir = tmp_path / "index"
    _manifest(b"[1, 2, 3]")(index_dir)
    assert main(["index", str(seed_corpus), "--index", str(index_dir)]) == 0
    out, err = capsys.readouterr()
    assert "(1 embedded, 0 unchanged" in out
    assert len(err.splitlines()) == 1 and err.startswith("qa: warning: rebuilding the whole index: ")
    assert main(["retrieve", "peacekeepers", "--index", str(index_dir)]) == 0


@pytest.mark.parametrize("damage", ["manifest is a list", "CURRENT not UTF-8", "CURRENT a folder"])
def test_the_app_starts_on_a_damaged_index_and_rebuilds_it(fake_index, fake_model_env, seed_corpus, tmp_path, damage, caplog):
    index_dir = tmp_path / "index"
    DAMAGES[damage](index_dir)
    service = Service.start(Library(seed_corpus, tmp_path / "data"), index_dir)
    assert [d.source for d in service.index.documents] == [d.source for d in fake_index.documents]
    assert any("rebuilding the whole index" in r.getMessage() for r in caplog.records)
    Index.load(index_dir, embedder=FakeEmbedder())


# ----- checksums ------------------------------------------------------------------------


def _flip_last_byte(path: Path) -> None:
    data = bytearray(path.read_bytes())
    data[-1] ^= 0x01
    path.write_bytes(bytes(data))


@pytest.mark.parametrize("name", ["vectors.faiss", "chunks.npy", "sentences.npy", "sentence_vectors.npy", "documents.jsonl"])
def test_bytes_changed_in_place_are_caught_and_not_kept_by_a_rebuild(fake_index, seed_corpus, tmp_path, name):
    index_dir = tmp_path / "index"
    clean = {path.name: path.read_bytes() for path in live(index_dir).iterdir() if path.is_file()}
    _flip_last_byte(live(index_dir) / name)
    assert (live(index_dir) / name).stat().st_size == len(clean[name])  # same size: only a checksum can tell
    with pytest.raises(IndexCorruptError, match="missing or damaged") as error:
        Index.load(index_dir, embedder=FakeEmbedder())
    assert_one_line(error.value)
    rebuild(seed_corpus, index_dir, FakeEmbedder())
    assert (live(index_dir) / name).read_bytes() == clean[name]  # rebuilt from the sources, not carried over
    loaded = Index.load(index_dir, embedder=FakeEmbedder())
    assert np.array_equal(loaded.chunks, fake_index.chunks)
    assert np.array_equal(loaded.dense.vectors(0, len(loaded.dense)), fake_index.dense.vectors(0, len(fake_index.dense)))


def test_the_manifest_records_a_checksum_per_file(fake_index, tmp_path):
    folder = live(tmp_path / "index")
    manifest = json.loads((folder / storage.MANIFEST).read_text(encoding="utf-8"))
    assert manifest["format"] == storage.FORMAT_VERSION == 3
    names = {p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file()} - {storage.MANIFEST}
    assert set(manifest["files"]) == names
    for entry in manifest["files"].values():
        assert set(entry) == {"bytes", storage.CHECKSUM} and len(entry[storage.CHECKSUM]) == 32


# ----- killed builds --------------------------------------------------------------------

KILLED_BUILD = """
import sys, os, signal
import numpy as np
from helpers import FakeEmbedder
from qa import Index
from qa.index.stores import folder_files as storage
real_save = np.save
def save_then_die(path, array, *a, **k):
    real_save(path, array, *a, **k)
    os.kill(os.getpid(), signal.SIGKILL)  # like kill -9 in the middle of writing a generation
storage.np.save = save_then_die
Index.build([{corpus!r}], {index_dir!r}, embedder=FakeEmbedder())
"""


def kill_a_build(corpus: Path, index_dir: Path) -> None:
    script = KILLED_BUILD.format(corpus=str(corpus), index_dir=str(index_dir))
    result = subprocess.run([sys.executable, "-c", script], cwd=REPO, capture_output=True, timeout=120, check=False,
                            env={**os.environ, "PYTHONPATH": str(REPO / "tests")})  # for the fake embedder
    assert result.returncode == -signal.SIGKILL, result.stderr.decode(errors="replace")


def test_killed_builds_leave_generations_that_the_next_build_removes(fake_index, seed_corpus, tmp_path):
    index_dir = tmp_path / "index"
    live_name = live(index_dir).name
    (seed_corpus / "harbour.txt").write_text("The harbour has 41 boats. The foghorn sounds twice.\n", encoding="utf-8")
    for _ in range(3):  # each build removes what the one before it left: they never pile up
        kill_a_build(seed_corpus, index_dir)
        leftovers = {p.name for p in index_dir.glob("gen-*")} - {live_name}
        assert len(leftovers) == 1  # half-written, never named in CURRENT
        assert live(index_dir).name == live_name and Index.load(index_dir, embedder=FakeEmbedder())
    (index_dir / ".CURRENT.999999.tmp").write_text("gen-x", encoding="utf-8")
    (seed_corpus / "harbour.txt").unlink()
    index, _ = rebuild(seed_corpus, index_dir, FakeEmbedder())  # nothing changed: no new generation is written
    assert [p.name for p in index_dir.glob("gen-*")] == [live_name]
    assert not list(index_dir.glob(".CURRENT.*"))
    assert index.documents == fake_index.documents


def test_a_killed_first_build_is_cleaned_up_too(seed_corpus, tmp_path):
    index_dir = tmp_path / "index"
    kill_a_build(seed_corpus, index_dir)
    assert len(list(index_dir.glob("gen-*"))) == 1 and not (index_dir / "CURRENT").exists()
    rebuild(seed_corpus, index_dir, FakeEmbedder())
    assert [p.name for p in index_dir.glob("gen-*")] == [live(index_dir).name]


def test_a_generation_another_writer_is_writing_is_left_alone(fake_index, seed_corpus, tmp_path, monkeypatch):
    index_dir = tmp_path / "index"
    monkeypatch.setattr(manifests, "LOCK_WAIT_SECONDS", 0.05)
    with storage.writer_lock(index_dir):  # another writer, in the middle of its build
        in_progress = index_dir / "gen-20990101T000000-000000000-1"
        in_progress.mkdir()
        (in_progress / "chunks.npy").write_bytes(b"half")
        with pytest.raises(IndexLockedError):
            Index.build([seed_corpus], index_dir, embedder=FakeEmbedder())
        assert in_progress.is_dir()
    assert live(index_dir).name != in_progress.name


def test_with_a_damaged_current_no_generation_is_removed_before_the_rebuild(fake_index, tmp_path):
    index_dir = tmp_path / "index"
    old = live(index_dir)
    (index_dir / "CURRENT").write_bytes(b"\xff")
    assert storage.remove_stale(index_dir) == []
    assert old.is_dir()


# ----- an index folder that cannot be one -----------------------------------------------


def index_folders(tmp_path: Path) -> dict[str, Path]:
    a_file = tmp_path / "a-file"
    a_file.write_text("not a folder", encoding="utf-8")
    return {"file": a_file, "dev-null": Path("/dev/null"), "under a file": a_file / "index",
            "impossible": Path("/proc/qa-nowhere/index")}


@pytest.mark.parametrize("kind", ["file", "dev-null", "under a file", "impossible"])
def test_an_index_folder_that_cannot_be_one_is_a_one_line_error(fake_model_env, seed_corpus, tmp_path, capsys, kind):
    folder = index_folders(tmp_path)[kind]
    with pytest.raises(IndexFolderError, match="--index"):
        Index.build([seed_corpus], folder, embedder=FakeEmbedder())
    for argv in (["index", str(seed_corpus)], ["ask", "Who?"], ["retrieve", "Who?"]):
        assert main([*argv, "--index", str(folder)]) == 1
        _, err = capsys.readouterr()
        assert len(err.splitlines()) == 1 and err.startswith("qa: error: ") and str(folder) in err, err
    assert Path("/dev/null").exists() and not Path("/dev/null").is_dir()

"""The app's library: seeds plus uploads, upload checks, removal (no index, no model)."""

from __future__ import annotations

from pathlib import Path

import pytest

from qa.app import Library, SourceFile
from qa.app.folders import upload_name
from qa.errors import SourceError


@pytest.fixture
def library(tmp_path: Path) -> Library:
    seeds = tmp_path / "seeds"
    (seeds / "nested").mkdir(parents=True)
    (seeds / "a.txt").write_text("Alpha.", encoding="utf-8")
    (seeds / "nested" / "b.md").write_text("Beta.", encoding="utf-8")
    (seeds / "notes.xlsx").write_bytes(b"not supported")
    (seeds / ".hidden.txt").write_text("Hidden.", encoding="utf-8")
    return Library(seeds, tmp_path / "data", max_upload_bytes=100)


def upload(tmp_path: Path, name: str, text: str = "Gamma is the third letter.") -> Path:
    path = tmp_path / "incoming" / name
    path.parent.mkdir(exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def test_sources_are_supported_visible_seeds_then_uploads(library: Library, tmp_path: Path) -> None:
    library.add(upload(tmp_path, "c.html", "<p>Gamma.</p>"))
    sources = library.sources()
    assert [(s.name, s.kind) for s in sources] == [("a.txt", "seed"), ("b.md", "seed"), ("c.html", "upload")]
    assert sources[0] == SourceFile("a.txt", str((library.seeds / "a.txt").resolve()), "seed", 6, "a.txt")
    assert sources[1].relative == "nested/b.md" and sources[2].relative == "c.html"
    assert library.paths() == [s.path for s in sources]
    assert Path(sources[2].path).parent == (tmp_path / "data" / "uploads").resolve()


def test_add_stores_a_copy_under_data_uploads_only(library: Library, tmp_path: Path) -> None:
    original = upload(tmp_path, "gamma.txt")
    stored = library.add(original, "Gamma Notes.TXT")
    assert stored.name == "Gamma Notes.txt" and stored.kind == "upload"
    assert Path(stored.path).read_text(encoding="utf-8") == original.read_text(encoding="utf-8")
    assert original.exists()  # the caller's file is left alone
    assert sorted(p.name for p in (tmp_path / "data").rglob("*")) == ["Gamma Notes.txt", "uploads"]


def test_an_upload_with_the_same_name_replaces_the_earlier_one(library: Library, tmp_path: Path) -> None:
    library.add(upload(tmp_path, "c.txt", "First version."))
    library.add(upload(tmp_path, "c.txt", "Second version."))
    uploads = [s for s in library.sources() if s.kind == "upload"]
    assert len(uploads) == 1
    assert Path(uploads[0].path).read_text(encoding="utf-8") == "Second version."


@pytest.mark.parametrize(
    ("name", "text", "message"),
    [
        ("tool.exe", "MZ", r"tool\.exe: unsupported file type; upload one of"),
        ("empty.txt", "", r"empty\.txt is empty"),
        ("big.txt", "x" * 101, r"big\.txt is 0\.0 MiB; uploads are limited to 0 MiB"),
        ("a.txt", "Clash.", r"A seed file is already called a\.txt"),
        ("???.txt", "Marks.", r"not a usable file name"),
    ],
)
def test_add_refuses_bad_uploads(library: Library, tmp_path: Path, name: str, text: str, message: str) -> None:
    with pytest.raises(SourceError, match=message):
        library.add(upload(tmp_path, "incoming", text), name)
    assert not library.uploads.exists() or not any(library.uploads.iterdir())


def test_upload_names_cannot_escape_the_uploads_folder() -> None:
    assert upload_name("../../etc/passwd.txt") == "passwd.txt"
    assert upload_name("C:\\Users\\me\\my report?.PDF") == "my report.pdf"
    assert upload_name("a<b>|c.txt") == "a_b_c.txt"
    assert upload_name(".bashrc.md") == "bashrc.md"
    assert len(upload_name("x" * 500 + ".md")) == 120


def test_removing_an_upload_deletes_its_copy(library: Library, tmp_path: Path) -> None:
    stored = library.add(upload(tmp_path, "c.txt"))
    assert library.remove(stored.path) == stored
    assert not Path(stored.path).exists()
    assert [s.name for s in library.sources()] == ["a.txt", "b.md"]


def test_removing_a_seed_excludes_it_but_keeps_the_file(library: Library) -> None:
    seed = library.seeds / "nested" / "b.md"
    removed = library.remove(seed)
    assert removed.kind == "seed" and seed.exists()
    assert library.excluded_file.read_text(encoding="utf-8") == "nested/b.md\n"
    assert [s.name for s in library.sources()] == ["a.txt"]


def test_the_last_source_cannot_be_removed(library: Library) -> None:
    library.remove(library.seeds / "a.txt")
    with pytest.raises(SourceError, match=r"b\.md is the only source left"):
        library.remove(library.seeds / "nested" / "b.md")
    assert [s.name for s in library.sources()] == ["b.md"]


def test_removing_an_unknown_source_says_so(library: Library, tmp_path: Path) -> None:
    with pytest.raises(SourceError, match=r"elsewhere\.txt is not in the library"):
        library.remove(tmp_path / "elsewhere.txt")
    with pytest.raises(SourceError, match=r"notes\.xlsx is not in the library"):
        library.remove(library.seeds / "notes.xlsx")


def test_a_removed_seed_is_listed_and_can_be_brought_back(library: Library) -> None:
    library.remove(library.seeds / "nested" / "b.md")
    assert [s.relative for s in library.removed_seeds()] == ["nested/b.md"]
    assert library.restore("nested/b.md").name == "b.md"
    assert library.removed_seeds() == [] and [s.name for s in library.sources()] == ["a.txt", "b.md"]
    with pytest.raises(SourceError, match=r"a\.txt is not a removed seed"):
        library.restore("a.txt")


def test_examples_are_those_of_the_seeds_in_the_library(library: Library) -> None:
    assert library.examples() == []  # no examples file
    (library.seeds / ".examples.json").write_text('{"a.txt": ["What is alpha?"], "nested/b.md": ["And beta?", 3]}',
                                                  encoding="utf-8")
    assert library.examples() == ["What is alpha?", "And beta?"]
    library.remove(library.seeds / "a.txt")
    assert library.examples() == ["And beta?"]
    (library.seeds / ".examples.json").write_text("{not json", encoding="utf-8")
    assert library.examples() == []  # a broken file is ignored (and logged), the page still starts
    assert ".examples.json" not in {s.name for s in library.sources()}  # hidden: never indexed

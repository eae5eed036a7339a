"""The app's live index: start (build when missing or stale), uploads, removal, locking (fake embedder)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from qa import Index, QAError
from qa.app import Library, Service
from qa.errors import IndexLockedError
from qa.index.stores.folder_files import writer_lock

UPLOAD = "The Tarrow Point lighthouse was first lit in 1874 by its keeper, Edith Marrow.\n"


@pytest.fixture
def library(seed_corpus: Path, tmp_path: Path) -> Library:
    return Library(seed_corpus, tmp_path / "data")


@pytest.fixture
def service(library: Library, tmp_path: Path, fake_model_env) -> Service:
    return Service.start(library, tmp_path / "index")


def incoming(tmp_path: Path, name: str, data: bytes) -> tuple[Path, str]:
    path = tmp_path / "incoming" / name
    path.parent.mkdir(exist_ok=True)
    path.write_bytes(data)
    return path, name


def test_start_says_what_it_indexes_in_the_terminal(library, tmp_path, fake_model_env, caplog) -> None:
    caplog.set_level("INFO", logger="qa.app")
    Service.start(library, tmp_path / "index")
    assert "checking the index of 1 source(s) (azerbaijan-soldiers-killed-nagorno-karabakh.txt)" in caplog.text


def test_start_builds_a_missing_index_and_reuses_an_up_to_date_one(library, tmp_path, fake_model_env) -> None:
    first = Service.start(library, tmp_path / "index")
    assert [d.source for d in first.index.documents] == ["azerbaijan-soldiers-killed-nagorno-karabakh.txt"]
    calls = len(fake_model_env.calls)
    again = Service.start(library, tmp_path / "index")
    assert len(fake_model_env.calls) == calls  # nothing embedded again
    assert again.index.documents == first.index.documents


def test_start_rebuilds_a_stale_index(library, tmp_path, fake_model_env) -> None:
    Service.start(library, tmp_path / "index")
    (library.seeds / "extra.md").write_text("Extra facts about harbours.\n", encoding="utf-8")
    service = Service.start(library, tmp_path / "index")
    assert "extra.md" in {d.source for d in service.index.documents}
    assert service.index.report.embedded == (str((library.seeds / "extra.md").resolve()),)


def test_without_sources_the_app_starts_and_says_to_upload(tmp_path, fake_model_env) -> None:
    service = Service.start(Library(tmp_path / "no-seeds", tmp_path / "data"), tmp_path / "index")
    assert service.sources() == []
    with pytest.raises(QAError, match=r"There are no sources yet\. Upload"):
        service.ask("Anything?")


def test_an_upload_is_embedded_alone_and_answerable_at_once(service, tmp_path, fake_model_env) -> None:
    calls = len(fake_model_env.calls)
    change = service.add([incoming(tmp_path, "lighthouse.md", UPLOAD.encode())])
    assert change.added == ("lighthouse.md",) and not change.rejected
    assert "Indexed lighthouse.md: 1 passages in" in change.summary() and change.passages == 1
    new_texts = [t for batch in fake_model_env.calls[calls:] for t in batch]
    assert new_texts and all("Marrow" in t or "lighthouse" in t.lower() for t in new_texts)
    best = service.retrieve("Who first lit the Tarrow Point lighthouse in 1874?", 1)[0]
    assert best.source == "lighthouse.md" and best.path.startswith(str(service.library.uploads.resolve()))
    rows = {row.source.name: row for row in service.sources()}
    assert rows["lighthouse.md"].passages == 1 and rows["lighthouse.md"].source.kind == "upload"


@pytest.mark.filterwarnings("ignore::qa.errors.SkippedFileWarning")
def test_refused_and_unreadable_uploads_are_reported_not_stored(service, tmp_path, fake_model_env) -> None:
    calls = len(fake_model_env.calls)
    change = service.add([incoming(tmp_path, "tool.exe", b"MZ"), incoming(tmp_path, "binary.txt", b"\x00\x01 data")])
    assert change.added == ()
    assert [r.path for r in change.rejected] == ["tool.exe", "binary.txt"]
    assert "unsupported file type" in change.rejected[0].reason and "binary" in change.rejected[1].reason
    assert not any(service.library.uploads.iterdir())
    assert len(fake_model_env.calls) == calls
    assert "Not added: tool.exe: unsupported file type" in change.summary()


def test_removing_sources_takes_them_out_of_the_index(service, tmp_path) -> None:
    stored = service.library.add(*incoming(tmp_path, "lighthouse.md", UPLOAD.encode()))
    service.add([incoming(tmp_path, "other.md", b"Another harbour, another keeper.\n")])
    assert service.remove(stored.path).removed == ("lighthouse.md",)
    assert not Path(stored.path).exists()
    seed = service.library.sources()[0]
    service.remove(seed.path)
    assert [d.source for d in service.index.documents] == ["other.md"]
    assert Path(seed.path).exists()  # a seed is excluded, never deleted
    with pytest.raises(QAError, match=r"other\.md is the only source left"):
        service.remove(service.library.sources()[0].path)


def test_a_locked_index_leaves_the_library_and_the_live_index_as_they_were(service, tmp_path) -> None:
    before = service.index
    with writer_lock(service.index_dir), pytest.raises(IndexLockedError, match="Another process is writing"):
        service.add([incoming(tmp_path, "lighthouse.md", UPLOAD.encode())])
    assert service.index is before
    assert [s.kind for s in service.library.sources()] == ["seed"]


def test_answers_carry_the_passage_around_each_quote(service, seed_text) -> None:
    answer = service.ask("How many Russian peacekeepers were deployed?")
    data = json.loads(json.dumps(answer.to_dict()))
    assert data["question"] == "How many Russian peacekeepers were deployed?" and data["citations"]
    for citation in data["citations"]:
        start, end = citation["passage_start"], citation["passage_end"]
        assert citation["passage"] == seed_text[start:end]
        assert start <= citation["start"] < citation["end"] <= end


def test_an_uploaded_pdf_is_cited_by_page(service, tmp_path) -> None:
    from qa.app.render import citation_label

    from helpers.documents import PDF_PAGES, make_pdf

    path = tmp_path / "incoming" / "harbour.pdf"
    path.parent.mkdir()
    make_pdf(path, PDF_PAGES)
    assert service.add([(path, "harbour.pdf")]).added == ("harbour.pdf",)
    answer = service.ask("How many loaves of rye bread does the bakery on the quay sell?")
    cited = [c for c in answer.citations if "300 loaves" in c.quote]
    assert cited and cited[0].page == 2 and cited[0].source == "harbour.pdf"
    assert citation_label(cited[0]).startswith(f"[{cited[0].n}] harbour.pdf, page 2, line ")


def test_warm_up_loads_the_model_before_the_first_question(library, tmp_path, fake_model_env) -> None:
    Service.start(library, tmp_path / "index")  # builds (and embeds) once
    started = Service(library, tmp_path / "index", Index.load(tmp_path / "index"))
    fake_model_env.calls.clear()
    started.warm_up()
    assert fake_model_env.calls == [["warm up"]]


def test_a_removed_seed_comes_back_into_the_index(service, tmp_path) -> None:
    service.add([incoming(tmp_path, "other.md", b"Another harbour, another keeper.\n")])
    seed = service.library.sources()[0]
    service.remove(seed.path)
    assert seed.name not in {d.source for d in service.index.documents}
    assert service.restore(seed.relative).added == (seed.name,)
    assert seed.name in {d.source for d in service.index.documents}
    assert service.library.removed_seeds() == []


def test_hostile_uploads_are_refused_with_their_reason_and_the_library_stays_answerable(library, tmp_path, fake_model_env) -> None:
    from qa import ReadSettings, Settings

    from helpers.documents import LAUGHS, bomb_pdf, zipped

    service = Service.start(library, tmp_path / "index", Settings(read=ReadSettings(max_memory_bytes=96 * 2**20)))
    before = [d.source for d in service.index.documents]
    change = service.add([incoming(tmp_path, "bomb.pdf", bomb_pdf(256 * 2**20)),
                          incoming(tmp_path, "laughs.docx", zipped([("word/document.xml", LAUGHS)]))])
    reasons = " ".join(item.reason for item in change.rejected)
    assert change.added == () and "bomb.pdf" in reasons and "needs more than 96 MB of memory" in reasons
    assert "laughs.docx" in reasons and "declares XML entities" in reasons
    assert "Not added: bomb.pdf" in change.summary()
    assert [d.source for d in service.index.documents] == before and service.retrieve("Azerbaijan soldiers", 1)
    assert not any(service.library.uploads.iterdir())


def test_the_app_follows_a_build_another_process_commits_to_its_index(service, tmp_path, fake_model_env) -> None:
    other = tmp_path / "elsewhere"
    other.mkdir()
    (other / "harbour.txt").write_text("The harbour master of Tarrow Point was Ada Quill.\n", encoding="utf-8")
    Index.build([*service.library.paths(), str(other)], service.index_dir)  # as `qa index … --index data/index` does
    assert "harbour.txt" in {d.source for d in service.index.documents}  # no restart needed
    assert "Ada Quill" in service.retrieve("Who was the harbour master?", 1)[0].text

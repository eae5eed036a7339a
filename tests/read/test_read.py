"""Reading sources: exact text for .txt/.md, visible text for HTML, pages for PDF, bad files skipped."""

from __future__ import annotations

import warnings
from pathlib import Path

import pytest

from qa import Index
from qa.errors import EmptyCorpusError, SourceError
from qa.read.files import read_document, read_sources

from helpers import SEED_FILE, build_quietly
from helpers.documents import PDF_PAGES, make_pdf

BOTH_STORES = True  # tests that take an index location run on a folder and on PostgreSQL (conftest.py)


def file_text(path: Path) -> str:
    with open(path, encoding="utf-8", newline="") as handle:
        return handle.read()


def assert_exact_offsets(index: Index) -> None:
    for chunk_id, (doc_id, start, end, _, _) in enumerate(index.chunks.tolist()):
        passage = index.corpus.passage(chunk_id, 0.0, 1)
        assert passage.text == index.documents[doc_id].text[start:end]
        assert passage.text == passage.text.strip() and passage.text
    for doc_id, start, end in index.corpus.sentences[["doc", "start", "end"]].tolist():
        sentence = index.documents[doc_id].text[start:end]
        assert sentence and sentence == sentence.strip()


# ----- plain text ----------------------------------------------------------------------


def test_seed_text_is_the_file_as_decoded(fake_index, seed_corpus):
    path = seed_corpus / SEED_FILE.name
    (doc,) = fake_index.documents
    assert doc.text == file_text(path)
    assert "\xa0" in doc.text  # the non-breaking space after the headline is kept
    assert doc.path == str(path.resolve())
    assert doc.source == SEED_FILE.name


def test_every_seed_chunk_and_passage_has_exact_offsets(fake_index, seed_text):
    assert len(fake_index.chunks) > 3
    for chunk_id, (_, start, end, _, _) in enumerate(fake_index.chunks.tolist()):
        passage = fake_index.corpus.passage(chunk_id, 0.5, 1)
        assert (passage.start, passage.end) == (start, end)
        assert seed_text[start:end] == passage.text
        assert passage.line == seed_text.count("\n", 0, start) + 1
    for mode in ("hybrid", "dense", "lexical"):
        for passage in fake_index.retrieve("Russian peacekeepers cease-fire Hadrut", k=20, mode=mode):
            assert seed_text[passage.start : passage.end] == passage.text


def test_crlf_and_non_breaking_space_are_kept(tmp_path, index_location, fake_embedder):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    raw = (
        "Harbour report\r\n\r\n"
        "The lighthouse keeper counted 41\xa0ships in the harbour. Fog rolled in at dusk.\r\n"
        "The foghorn sounded twice an hour.\r\n\r\n"
        "Gulls nested on the old pier, near the\r\nfish market. The market opens at six.\r\n"
    )
    (corpus / "crlf.txt").write_bytes(raw.encode("utf-8"))
    (corpus / "notes.md").write_bytes("# Notes\n\nThe ferry\xa0leaves at noon. It returns at 5 p.m.\n".encode())
    index, skipped = build_quietly([corpus], index_location, fake_embedder)
    assert skipped == []
    by_name = {doc.source: doc for doc in index.documents}
    assert by_name["crlf.txt"].text == file_text(corpus / "crlf.txt") == raw
    assert by_name["notes.md"].text == file_text(corpus / "notes.md")
    assert_exact_offsets(index)
    texts = [index.corpus.sentence_text(i) for i in range(len(index.corpus.sentences))]
    assert "The lighthouse keeper counted 41\xa0ships in the harbour." in texts
    assert "Gulls nested on the old pier, near the\r\nfish market." in texts  # a wrapped line continues the sentence
    assert not any(text.endswith("\r") for text in texts)
    hit = index.retrieve("lighthouse keeper ships", k=1, mode="lexical")[0]
    assert hit.source == "crlf.txt" and "41\xa0ships" in hit.text and hit.line == 3


# ----- HTML and PDF --------------------------------------------------------------------


HTML = """<!doctype html>
<html><head><title>Harbour news</title>
<style>body { color: red; }</style>
<script>var secretToken = "never index this";</script></head>
<body><nav>Home About Contact</nav>
<h1>Harbour news</h1>
<p>The lighthouse keeper counted 41 ships in the harbour. Fog rolled in from the sea at dusk.</p>
<p>The bakery on the quay sells 300 loaves of <b>rye bread</b> every morning.</p>
<script>alert("hidden script text")</script>
</body></html>
"""


def test_html_gives_visible_text_only(tmp_path, fake_embedder):
    path = tmp_path / "page.html"
    path.write_text(HTML, encoding="utf-8")
    doc = read_document(path)
    assert "The lighthouse keeper counted 41 ships in the harbour." in doc.text
    assert "rye bread" in doc.text
    for hidden in ("secretToken", "never index this", "alert", "hidden script text", "color: red", "<p>", "Home About"):
        assert hidden not in doc.text
    index, _ = build_quietly([path], tmp_path / "index", fake_embedder)
    assert_exact_offsets(index)
    hit = index.retrieve("bakery loaves rye", k=1, mode="lexical")[0]
    assert "300 loaves" in hit.text and hit.page is None


def test_pdf_passages_report_their_page(tmp_path, index_location, fake_embedder):
    path = tmp_path / "harbour.pdf"
    make_pdf(path, PDF_PAGES)
    doc = read_document(path)
    assert len(doc.page_starts) == 2 and doc.page_starts[0] == 0
    assert doc.page_at(doc.text.index("lighthouse")) == 1
    assert doc.page_at(doc.text.index("bakery")) == 2
    index, _ = build_quietly([path], index_location, fake_embedder)
    assert_exact_offsets(index)
    texts = [index.documents[d].text[s:e] for d, s, e, _, _ in index.chunks.tolist()]
    assert not any("Page 1" in text or "Page 2" in text for text in texts)  # page numbers are chrome
    bakery = index.retrieve("bakery loaves rye bread", k=1, mode="lexical")[0]
    assert "300 loaves" in bakery.text and bakery.page == 2
    gulls = index.retrieve("gulls nested pier", k=1, mode="lexical")[0]
    assert "Gulls nested" in gulls.text and gulls.page == 1
    assert all("bakery" not in text or "lighthouse" not in text for text in texts)  # no chunk spans two pages


# ----- bad files -----------------------------------------------------------------------


BAD_FILES = {
    "binary.txt": b"PK\x03\x04\x00\x00binary\x00data",
    "latin1.txt": "Caf\xe9 cr\xe8me, a sentence in Latin-1.".encode("latin-1"),
    "report.docx": b"PK\x03\x04 pretend this is a Word file",
    "sheet.xlsx": b"PK\x03\x04 a spreadsheet",
    "book.epub": b"PK\x03\x04 not really a book",
    "empty.txt": b"",
    "nul_late.txt": b"A sentence of plain text. " * 400 + b"\x00 and then a NUL byte after the first 8 KiB.",
}


@pytest.mark.parametrize(
    ("name", "reason"),
    [("binary.txt", "binary"), ("latin1.txt", "UTF-8"), ("report.docx", "cannot read the Word document"),
     ("sheet.xlsx", "unsupported"), ("book.epub", "cannot read the EPUB"), ("empty.txt", "no text"),
     ("nul_late.txt", "binary")],
)
def test_bad_file_is_a_source_error(tmp_path, name, reason):
    path = tmp_path / name
    path.write_bytes(BAD_FILES[name])
    with pytest.raises(SourceError, match=reason):
        read_document(path)


def test_bad_files_are_skipped_with_one_warning_each(seed_corpus, index_location, fake_embedder):
    """On both stores alike (a NUL late in a text file once aborted the whole PostgreSQL build)."""
    for name, data in BAD_FILES.items():
        (seed_corpus / name).write_bytes(data)
    (seed_corpus / "blank.md").write_text("  \n\n\t\n", encoding="utf-8")
    index, messages = build_quietly([seed_corpus], index_location, fake_embedder)
    bad = sorted([*BAD_FILES, "blank.md"])
    assert [doc.source for doc in index.documents] == [SEED_FILE.name]
    assert sorted(Path(s.path).name for s in index.report.skipped) == bad
    assert len(messages) == len(bad)
    for name in bad:
        assert sum(name in message for message in messages) == 1
    assert index.retrieve("Azerbaijan soldiers killed", k=1)[0].source == SEED_FILE.name


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-be", "utf-32", "utf-8-sig"])
def test_text_with_a_byte_order_mark_is_read_in_its_encoding(tmp_path, encoding):
    text = "Notepad saved this note. It says the ferry leaves at 7:40 from pier 3.\n"
    data = text.encode(encoding)
    if encoding == "utf-16-be":
        data = b"\xfe\xff" + data
    path = tmp_path / "note.txt"
    path.write_bytes(data)
    document = read_document(path)
    assert document.text.lstrip("\ufeff") == text


def test_oversized_file_is_skipped_and_the_message_names_the_setting(seed_corpus, tmp_path, fake_embedder):
    from qa import ReadSettings, Settings

    (seed_corpus / "small.txt").write_text("A short file that fits under the limit.", encoding="utf-8")
    settings = Settings(read=ReadSettings(max_file_bytes=100))
    index, messages = build_quietly([seed_corpus], tmp_path / "index", fake_embedder, settings)
    assert [doc.source for doc in index.documents] == ["small.txt"]
    assert len(messages) == 1 and SEED_FILE.name in messages[0] and "Settings.read.max_file_bytes" in messages[0]


def test_all_bad_corpus_raises_empty_corpus_error(tmp_path, fake_embedder):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    for name, data in BAD_FILES.items():
        (corpus / name).write_bytes(data)
    with warnings.catch_warnings(record=True):
        warnings.simplefilter("always")
        with pytest.raises(EmptyCorpusError, match="Nothing to index"):
            Index.build([corpus], tmp_path / "index", embedder=fake_embedder)
    assert not (tmp_path / "index" / "CURRENT").exists()


def test_empty_folder_and_missing_path(tmp_path, fake_embedder):
    (tmp_path / "empty").mkdir()
    with pytest.raises(EmptyCorpusError, match="no files found"):
        Index.build([tmp_path / "empty"], tmp_path / "index", embedder=fake_embedder)
    with pytest.raises(SourceError, match="No such file or folder"):
        Index.build([tmp_path / "nope"], tmp_path / "index", embedder=fake_embedder)


def test_hidden_files_and_duplicates_are_read_once(seed_corpus):
    hidden = seed_corpus / ".cache"
    hidden.mkdir()
    (hidden / "notes.txt").write_text("A hidden note that must not be indexed.", encoding="utf-8")
    documents, skipped = read_sources([seed_corpus, seed_corpus / SEED_FILE.name])
    assert [doc.source for doc in documents] == [SEED_FILE.name]
    assert skipped == []


def test_corpus_of_page_chrome_only_raises_empty_corpus_error(tmp_path, fake_model_env):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "menu.txt").write_text("Accessibility links\n\nXS\nSM\nMD\nLG\n", encoding="utf-8")
    for embedder in (fake_model_env, None):  # None: the model is loaded only when there is something to embed
        with pytest.raises(EmptyCorpusError, match="Nothing to index"):
            Index.build([corpus], tmp_path / "index", embedder=embedder)
    assert not (tmp_path / "index" / "CURRENT").exists()


def test_document_without_passages_beside_others(seed_corpus, tmp_path, index_location, fake_embedder):
    (seed_corpus / "menu.txt").write_text("Accessibility links\n\nXS\nSM\nMD\nLG\n", encoding="utf-8")
    index, _ = build_quietly([seed_corpus], index_location, fake_embedder)
    assert sorted(doc.source for doc in index.documents) == sorted(["menu.txt", SEED_FILE.name])
    loaded = Index.load(index_location, embedder=fake_embedder)
    assert loaded.retrieve("Russian peacekeepers", k=3) == index.retrieve("Russian peacekeepers", k=3)
    (seed_corpus / "menu.txt").unlink()
    rebuilt, _ = build_quietly([seed_corpus], index_location, fake_embedder)
    assert [doc.source for doc in rebuilt.documents] == [SEED_FILE.name]

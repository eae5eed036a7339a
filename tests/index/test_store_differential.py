"""The two stores side by side: the index folder and PostgreSQL keep the same corpus, so they give the same answers.

Every file type the product reads (.txt, .md, .rst, .ipynb, .html, .pdf, .docx, .epub) is indexed into both stores with
the fake embedder; the loaded corpora must be equal (documents with their title and blocks, chunk and
sentence tables with the code flags, sentence vectors), and so must retrieval and the answers' JSON
(sections, pages, lines, offsets), after a first build, an incremental one (a file changed, one deleted),
and a build that failed half way.
"""

from __future__ import annotations

import json
import shutil
import time
import warnings
from collections.abc import Iterator
from dataclasses import asdict
from pathlib import Path

import numpy as np
import pytest

from qa import Index
from qa.index.corpus import Corpus
from qa.index.stores import postgres_search as pgstore

from helpers import FIXTURES, SEED_FILE, FakeEmbedder, new_schema
from helpers.documents import make_manual, write_docx, write_epub

pytestmark = pytest.mark.postgres

QUESTIONS = [
    "How many Russian peacekeepers were deployed?",  # .txt
    "How do I look up a host name?",  # .md
    "What does emitter.once do?",  # .html
    "When does the foghorn sound?",  # .docx
    "How many loaves of rye bread does the bakery sell?",  # .pdf and .epub
    "What oil does the lamp burn?",  # .epub, a code span; .rst, an option's description
    "How do I trim the wick?",  # .rst, a literal block after "::"
    "How high was the highest tide of the year?",  # .ipynb, a code cell's output
]


def every_format(folder: Path) -> Path:
    folder.mkdir()
    shutil.copy(SEED_FILE, folder / SEED_FILE.name)
    for name in ("dns-notes.md", "lamp-care.rst", "tide-log.ipynb", "node-events.html", "mdbook-profiles.html"):
        shutil.copy(FIXTURES / name, folder / name)
    make_manual(folder / "manual.pdf")
    write_docx(folder / "handbook.docx")
    write_epub(folder / "tales.epub")
    return folder


def build(paths: list[Path], location: Path | str) -> Index:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return Index.build(paths, location, embedder=FakeEmbedder())


def assert_same_corpus(one: Corpus, other: Corpus) -> None:
    assert one.documents == other.documents  # text, hashes, pages, blocks with their sections, the document's title
    assert one.titles == other.titles
    for name in ("chunks", "sentences"):
        a, b = getattr(one, name), getattr(other, name)
        assert a.dtype == b.dtype and np.array_equal(a, b), name
    assert np.array_equal(one.sentence_vectors, other.sentence_vectors)


def assert_same_answers(one: Index, other: Index) -> None:
    assert_same_corpus(one.corpus, other.corpus)
    for question in QUESTIONS:
        here, there = one.retrieve(question, k=8), other.retrieve(question, k=8)
        assert [(p.path, p.start, p.end, p.section, p.page, p.line) for p in here] == \
               [(p.path, p.start, p.end, p.section, p.page, p.line) for p in there]
        assert [p.score for p in here] == pytest.approx([p.score for p in there], abs=1e-4)
        assert json.dumps(asdict(one.answer(question))) == json.dumps(asdict(other.answer(question)))


@pytest.fixture
def corpus(tmp_path: Path) -> Path:
    return every_format(tmp_path / "corpus")


@pytest.fixture
def locations(tmp_path: Path, postgres_url: str) -> Iterator[tuple[Path, str]]:
    """An index folder and an empty database schema."""
    yield tmp_path / "index", new_schema(postgres_url, f"contract_{time.monotonic_ns()}")
    pgstore.close_pools()


def test_both_stores_keep_the_same_corpus_of_every_file_type(corpus, locations):
    folder, database = (build([corpus], location) for location in locations)
    assert len(folder.documents) == 9
    structured = [doc for doc in folder.corpus.documents if doc.blocks]
    assert len(structured) == 8 and all(doc.title for doc in structured)  # only the .txt is plain
    assert folder.corpus.sentences["code"].any()  # the HTML and EPUB code blocks
    assert_same_answers(folder, database)
    assert_same_answers(Index.load(locations[0], embedder=FakeEmbedder()), Index.load(locations[1], embedder=FakeEmbedder()))
    sections = {c.section for q in QUESTIONS for c in database.answer(q).citations}
    assert any(" › " in s for s in sections)  # heading paths reach the citations over PostgreSQL too


def test_both_stores_agree_after_an_incremental_build(corpus, locations):
    for location in locations:
        build([corpus], location)
    (corpus / "dns-notes.md").write_text((corpus / "dns-notes.md").read_text() + "\n## Caching\n\nAnswers are cached for `ttl` seconds.\n")
    (corpus / "tales.epub").unlink()
    folder, database = (build([corpus], location) for location in locations)
    assert folder.report.embedded == database.report.embedded == (str((corpus / "dns-notes.md").resolve()),)
    assert folder.report.removed == database.report.removed
    assert len(folder.documents) == 8
    assert_same_answers(folder, database)


def test_both_stores_keep_the_previous_index_when_a_build_fails(corpus, locations, monkeypatch):
    before = [build([corpus], location) for location in locations]
    (corpus / "notes.md").write_text("# Notes\n\nThe harbour master keeps the tide tables.\n", encoding="utf-8")

    def crash(self, texts, **kwargs):
        raise OSError("simulated crash while embedding")

    monkeypatch.setattr(FakeEmbedder, "embed", crash)
    for location in locations:
        with pytest.raises(OSError, match="simulated crash"):
            build([corpus], location)
    monkeypatch.undo()
    after = [Index.load(location, embedder=FakeEmbedder()) for location in locations]
    for old, new in zip(before, after, strict=True):
        assert_same_corpus(old.corpus, new.corpus)
    assert_same_answers(*after)

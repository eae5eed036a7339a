"""Section titles for every format: on passages and citations, in front of chunks, in the app's source viewer;
code is kept with its prose but not quoted while prose answers."""

from __future__ import annotations

import re
import shutil
import warnings
from typing import cast

import pytest

from qa import Index
from qa.answer.compose import prose_first
from qa.answer.score import Candidate
from qa.app.render import answer_html, citation_label, passage_html
from qa.index.corpus import CODE_EMBED_CHARS, Corpus
from qa.read.unwrap import display_text

from helpers import FIXTURES
from helpers.documents import make_manual, write_docx, write_epub

CASES = [  # question, source, the section its answer sits under
    ("Which profile do build commands like cargo build use by default?", "profiles.html", "Profiles › Default profiles › dev"),
    ("How many tries does the resolver make before giving up?", "dns-notes.md", "DNS › resolver.setServers(servers)"),
    ("When does the baker open the shop?", "manual.pdf", "2.2 The bakery"),
    ("When does the fish market open?", "handbook.docx", "Harbour handbook › Market"),
    ("Which oil does the lamp burn?", "tales.epub", "The lighthouse › The lamp"),
    ("How do I trim the wick with the short blade?", "lamp-care.rst", "Lamp care › Trimming the wick"),
]


@pytest.fixture(scope="module")
def every_format(tmp_path_factory, fake_embedder_module):
    folder = tmp_path_factory.mktemp("formats")
    shutil.copy(FIXTURES / "mdbook-profiles.html", folder / "profiles.html")
    shutil.copy(FIXTURES / "dns-notes.md", folder / "dns-notes.md")
    shutil.copy(FIXTURES / "lamp-care.rst", folder / "lamp-care.rst")
    make_manual(folder / "manual.pdf")
    write_docx(folder / "handbook.docx")
    write_epub(folder / "tales.epub")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return Index.build([folder], folder.parent / "index", embedder=fake_embedder_module)


@pytest.fixture(scope="module")
def fake_embedder_module():
    from helpers import FakeEmbedder

    return FakeEmbedder()


@pytest.mark.parametrize(("question", "source", "section"), CASES)
def test_citations_and_the_source_viewer_show_the_section(every_format, question, source, section):
    answer = every_format.answer(question)
    cited = [c for c in answer.citations if c.source == source]
    assert cited, answer
    citation = cited[0]
    assert citation.section == every_format.corpus.document(citation.path).section_at(citation.start)
    assert citation.section == section
    assert f"{source} › {section}" in citation_label(citation)
    html = passage_html(citation)
    assert f'<span class="qa-section">› {section}</span>' in html.replace("&#x27;", "'")
    assert citation.passage in html or "<mark>" in html
    assert f"{source} › {section}" in answer_html(answer, 2000).replace("&#x27;", "'")


def test_the_heading_path_goes_in_front_of_each_chunk_for_embedding_and_bm25(every_format, fake_embedder_module):
    embedded = fake_embedder_module.embedded_texts
    assert any(text.startswith("Profiles › Default profiles › dev\n") and "It is the default" in text for text in embedded)
    assert any(text.startswith("Harbour tales › The lighthouse › The lamp\n") for text in embedded)
    hit = every_format.retrieve("Default profiles", k=1, mode="lexical")[0]  # only in a heading, found through it
    assert hit.source == "profiles.html" and hit.section.startswith("Profiles › Default profiles")


def test_pdf_quotes_are_shown_with_their_lines_joined(every_format):
    answer = every_format.answer("With how much enthusiasm did the lighthouse keeper count the passing ships each morning?")
    quote = next(c for c in answer.citations if "lighthouse keeper" in c.quote)
    assert "\n" in quote.quote and every_format.corpus.document(quote.path).text[quote.start : quote.end] == quote.quote
    shown = "The lighthouse keeper counted the passing ships with great enthusiasm every single morning."
    assert display_text(quote.quote) == shown
    # whether the fake embedder's cosine lets the reader answer is beside the point: an answer shows its quotes this way
    assert (f"“{shown}” [{quote.n}]" in answer.text) is answer.answered
    shown_html = re.sub(r"<[^>]+>", "", answer_html(answer, 2000))  # the answer inside the quote may be bolded
    assert ("great enthusiasm every single morning." in shown_html) is answer.answered


class _Corpus:
    def __init__(self, code: set[int]) -> None:
        self.code = code

    def is_code(self, sentence: int) -> bool:
        return sentence in self.code


def stand_in(code: set[int]) -> Corpus:
    """A corpus of which prose_first reads only ``is_code``."""
    return cast(Corpus, _Corpus(code))


def test_code_is_quoted_only_when_no_prose_answers():
    code, prose, weak = Candidate(0, 1, 0, 2.0, 1.5), Candidate(1, 1, 0, 1.5, 1.2), Candidate(1, 1, 0, 0.6, 0.5)
    assert prose_first(stand_in({0}), [code, prose], prose_at=1.0) == [prose]
    assert prose_first(stand_in({0}), [code, weak], prose_at=1.0) == [code, weak]
    assert prose_first(stand_in(set()), [code, prose], prose_at=1.0) == [code, prose]


def test_the_heading_a_sentence_sits_under_counts_as_its_words(tmp_path, fake_embedder):
    (tmp_path / "ferry.md").write_text(
        "# Ferry\n\n## `ferry.depart(hour)`\n\nLeaves the harbour at the given hour.\n\n"
        "## `ferry.paint()`\n\nThe ferry is painted blue every spring.\n", encoding="utf-8")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        index = Index.build([tmp_path / "ferry.md"], tmp_path / "index", embedder=fake_embedder)
    first = index.answer("What does ferry.depart do?").citations[0]
    assert first.quote == "Leaves the harbour at the given hour."
    assert first.section == "Ferry › ferry.depart(hour)"


def test_sentences_are_embedded_under_their_heading_with_their_lines_joined(tmp_path, fake_embedder):
    (tmp_path / "ferry.md").write_text(
        "# Ferry\n\n## `ferry.paint()`\n\nThe ferry is painted blue every spring.\n\n"
        "```\n" + "paint(ferry, colour='blue')\n" * 40 + "```\n", encoding="utf-8")
    (tmp_path / "notes.txt").write_text("The harbour opens at six.\n", encoding="utf-8")
    make_manual(tmp_path / "manual.pdf")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        index = Index.build([tmp_path], tmp_path / "index", embedder=fake_embedder)
    embedded = fake_embedder.embedded_texts
    assert "ferry.paint(): The ferry is painted blue every spring." in embedded
    assert "The harbour opens at six." in embedded  # plain text has no heading
    assert ("2.1 Fog signals: The lighthouse keeper counted the passing ships with great enthusiasm every single morning."
            in embedded)
    code = next(text for text in embedded if text.startswith("ferry.paint(): paint(ferry"))
    assert len(code) <= len("ferry.paint(): ") + CODE_EMBED_CHARS < 40 * len("paint(ferry, colour='blue') ")  # its start
    corpus = index.corpus
    painted = next(s for s in range(len(corpus.sentences)) if corpus.sentence_text(s).startswith("The ferry is painted"))
    assert corpus.sentence_text(painted) == "The ferry is painted blue every spring."  # quotes stay the sentence alone
    assert corpus.sentence_embed_text(painted) == "ferry.paint(): The ferry is painted blue every spring."

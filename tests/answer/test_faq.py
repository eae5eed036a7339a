"""A FAQ's own questions: a question-shaped heading that asks what the user asks names the section whose first
paragraph answers, quoted whole when the reader finds no sentence that answers by itself (``qa.answer.faq``)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from qa import Index
from qa.answer.compose import candidate_sentences
from qa.answer.faq import QUESTION_HEADING, faq_quotes
from qa.answer.reader import Reader

from helpers import FakeEmbedder

FAQ = """# FAQ

* [When is the next release?](#release)
* [How do I search compressed files?](#compressed)
* [How do I install it?](#install)

<h3 name="release">
When is the next release?
</h3>

tarrow is a project whose contributors are volunteers. A release schedule
adds undue stress to said volunteers. Therefore, releases are made on a best
effort basis and no dates **will ever be given**.

An exception to this can be high impact bugs.

<h3 name="compressed">
How do I search compressed files?
</h3>

The `-z/--search-zip` flag searches compressed files. It shells out to gzip,
bzip2 and xz, which must be installed. Each archive is read as one stream of
bytes, never as a tree of files. Nested archives are not opened at all, and
archives over a size limit are skipped with a warning on standard error.

<h3 name="install">
How do I install it?
</h3>

Run one of these:

```
$ cargo install tarrow
```
"""


RELEASE = ("tarrow is a project whose contributors are volunteers. A release schedule\nadds undue stress to said volunteers. "
           "Therefore, releases are made on a best\neffort basis and no dates **will ever be given**.")


@pytest.fixture
def faq_index(tmp_path: Path, fake_embedder: FakeEmbedder) -> Index:
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "tarrow-FAQ.md").write_text(FAQ, encoding="utf-8")
    return Index.build([tmp_path / "docs"], tmp_path / "index", embedder=fake_embedder)


def opening(index: Index, question: str, **answer: object) -> list[str]:
    """The quotes ``faq_quotes`` gives for ``question`` (its candidates, as the product finds them)."""
    asked = index.retriever.read(question, None, 2000)
    corpus, candidates, _ = candidate_sentences(index, asked)
    assert asked.focus is not None
    embed = index.retriever.embedder.embed
    settings = replace(index.settings.answer, **answer)  # type: ignore[arg-type]
    quotes = faq_quotes(corpus, candidates, asked.query, asked.focus, lambda texts: embed(texts), settings)
    doc = corpus.documents[0]
    return [doc.text[q.start : q.end] for q in quotes]


def test_a_question_its_faq_asks_gets_the_sections_first_paragraph_whole(faq_index: Index) -> None:
    # the FAQ leaves out its subject's name, the user names it: compared without the document's name words
    assert opening(faq_index, "When is the next tarrow release?") == [RELEASE]


def test_a_long_paragraph_is_cut_at_whole_sentences_and_an_introduced_block_follows(faq_index: Index) -> None:
    cut = opening(faq_index, "How do I search compressed files?", max_quote_chars=120)
    assert cut == ["The `-z/--search-zip` flag searches compressed files. It shells out to gzip,\nbzip2 and xz, which must be "
                   "installed."]
    assert opening(faq_index, "How do I install it?") == ["Run one of these:", "$ cargo install tarrow"]


def test_no_heading_that_asks_it_no_faq_answer(faq_index: Index) -> None:
    assert opening(faq_index, "Which license does the parser use for its grammar files?") == []
    assert opening(faq_index, "When is the next tarrow release?", faq_at=1.5) == []  # above 1: off


def test_question_shaped_headings() -> None:
    assert QUESTION_HEADING.match("When is the next release?")
    assert QUESTION_HEADING.match("Can Cargo be used inside of make (or ninja, or …)")
    assert not QUESTION_HEADING.match("Configuration file")
    assert not QUESTION_HEADING.match("Howto")


def test_the_faq_answers_only_when_the_reader_finds_nothing(faq_index: Index, monkeypatch: pytest.MonkeyPatch) -> None:
    question = "When is the next tarrow release?"
    monkeypatch.setattr(Reader, "any_answers", lambda self, judged: True)  # the reader's own answer stands
    answer = faq_index.answer(question)
    assert answer.answered and answer.citations[0].quote != RELEASE  # sentences the reader chose, not the paragraph
    monkeypatch.setattr(Reader, "any_answers", lambda self, judged: False)  # it finds none: the FAQ answers
    answer = faq_index.answer(question)
    assert answer.answered and answer.citations[0].quote == RELEASE
    assert answer.citations[0].section == "FAQ › When is the next release?"
    declined = faq_index.answer("Which license does the parser use for its grammar files?")
    assert not declined.answered  # no heading asks it: declined as before

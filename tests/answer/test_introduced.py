"""Documentation answers with the thing itself: a sentence ending in ":" is quoted with the code block or the list it
introduces, verbatim and with its own offsets, and the chat shows code as code and a list as a list."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from qa import Answer, Index
from qa.answer.blocks import introduced_span
from qa.answer.compose import citation, shown_quote
from qa.answer.quotes import introduced, select_quotes
from qa.answer.reader import reader_features
from qa.app.render import answer_html, passage_html

from helpers import FakeEmbedder
from helpers.documents import GUIDE
from helpers.units import Recording, bars, markdown_index, quote_of


@pytest.fixture
def guide_index(tmp_path: Path, fake_embedder: FakeEmbedder) -> Index:
    return markdown_index(tmp_path, fake_embedder, "GUIDE.md", GUIDE)


def test_a_sentence_ending_in_a_colon_brings_its_code_block_and_its_list(guide_index: Index) -> None:
    doc = guide_index.corpus.documents[0]
    intro = quote_of(guide_index, "Let's try our first search by looking for all occurrences of the word `fast` in `README.md`:")
    block = introduced(guide_index.corpus, intro, 600)
    assert block is not None and doc.text[block.start : block.end].startswith("$ rg fast README.md\n75:")
    assert "```" not in doc.text[block.start : block.end]  # the code inside the fences
    rules = quote_of(guide_index, "There are only two rules for the configuration file:")
    listed = introduced(guide_index.corpus, rules, 600)
    assert listed is not None
    assert doc.text[listed.start : listed.end] == ("Every line is a shell argument, after trimming whitespace.\n2. Lines starting "
                                                  "with `#` (optionally preceded by any amount of whitespace) are ignored.")
    shorter = introduced(guide_index.corpus, rules, 80)  # a budget that holds one item: whole items only
    assert shorter is not None and doc.text[shorter.start : shorter.end] == "Every line is a shell argument, after trimming whitespace."
    assert listed.candidate.probability == 0.0 and listed.candidate.span is None  # not read by the reader


def test_a_sentence_that_introduces_nothing_brings_nothing(guide_index: Index) -> None:
    for text in ("The output shows every match.", "Colors can be changed in several places."):
        assert introduced(guide_index.corpus, quote_of(guide_index, text), 600) is None


def test_the_answer_quotes_the_command_and_the_chat_shows_it_as_code(guide_index: Index) -> None:
    corpus = guide_index.corpus
    intro = quote_of(guide_index, "Let's try our first search by looking for all occurrences of the word `fast` in `README.md`:")
    chosen = select_quotes(corpus, [intro.candidate], [intro.candidate], lambda sentence: {}, guide_index.settings.answer, bars(1.0), None)
    block = introduced(corpus, intro, 600)
    assert block is not None and [q.start for q in chosen][:2] == [intro.start, block.start]
    cited = [citation(corpus, n, q, "What command searches for fast?", supports=True) for n, q in enumerate(chosen, start=1)]
    assert [c.layout for c in cited][:2] == ["prose", "code"]
    assert all(corpus.documents[0].text[c.start : c.end] == c.quote for c in cited)
    assert shown_quote(cited[1]).strip() == cited[1].quote.strip()  # line by line, not joined
    html = answer_html(Answer("What command searches for fast?", True, "", tuple(cited)), 2000)
    assert '<pre class="qa-code"><code>$ rg fast README.md&#10;75:' in html
    panel = passage_html(cited[1])  # the sources panel: the code block marked in its own font, its lines kept
    assert '<mark class="qa-code">$ rg fast README.md\n75:' in panel and "<mark>" not in panel
    around = passage_html(cited[0])  # the sentence's panel: the code after it in the code font, without its fences
    assert '<span class="qa-code qa-context-code">$ rg fast README.md\n75:' in around and "```" not in around
    listed = replace(cited[1], layout="list", quote="a\n2. b")
    assert "qa-list" in answer_html(Answer("q", True, "", (listed,)), 2000)
    wrapped = "Explicit triggers.  Run\n   dpkg-trigger.\n * File triggers.  These are\n   activated by dpkg.\n 3. Third."  # plain text
    listed = replace(cited[1], layout="list", quote=wrapped, start=0, end=len(wrapped), passage="", passage_start=0,
                     answer_start=None, answer_end=None, path="triggers.txt")
    assert ("Explicit triggers.  Run dpkg-trigger.<br>File triggers.  These are activated by dpkg.<br> 3. Third."
            in answer_html(Answer("q", True, "", (listed,)), 2000))  # one item a line, its lines joined, no bullet


def test_a_further_quote_that_introduces_a_list_brings_it_right_after_it(guide_index: Index) -> None:
    corpus = guide_index.corpus
    first = quote_of(guide_index, "ripgrep reads no configuration file unless told where it is.")
    rules = quote_of(guide_index, "There are only two rules for the configuration file:")
    chosen = select_quotes(corpus, [first.candidate, rules.candidate], [], lambda sentence: {}, guide_index.settings.answer,
                           bars(0.5), None)
    texts = [corpus.documents[0].text[q.start : q.end] for q in chosen]
    assert texts[:2] == ["ripgrep reads no configuration file unless told where it is.",
                         "There are only two rules for the configuration file:"]
    assert texts[2].startswith("Every line is a shell argument") and texts[2].endswith("are ignored.")


README = """# pgvector-python

## Psycopg 3

Enable the extension

```python
conn.execute('CREATE EXTENSION IF NOT EXISTS vector')
```

For async connections with Psycopg 3, use

```python
await register_vector_async(conn)
```

The vector type is registered per connection.

```python
register_vector(conn)
```

Supported types are

- vector
- halfvec

### Install

```sh
pip install pgvector
```
"""


@pytest.fixture
def readme_index(tmp_path: Path, fake_embedder: FakeEmbedder) -> Index:
    return markdown_index(tmp_path, fake_embedder, "README.md", README)


def test_a_caption_without_a_full_stop_introduces_the_code_right_after_it(readme_index: Index) -> None:
    doc = readme_index.corpus.documents[0]
    for caption, code in (("Enable the extension", "conn.execute('CREATE EXTENSION IF NOT EXISTS vector')"),
                          ("For async connections with Psycopg 3, use", "await register_vector_async(conn)")):
        block = introduced(readme_index.corpus, quote_of(readme_index, caption), 600)
        assert block is not None and doc.text[block.start : block.end].strip() == code


def test_a_finished_sentence_a_caption_before_a_list_and_a_heading_introduce_nothing(readme_index: Index) -> None:
    for text in ("The vector type is registered per connection.", "Supported types are"):
        assert introduced(readme_index.corpus, quote_of(readme_index, text), 600) is None
    doc = readme_index.corpus.documents[0]
    heading = doc.text.index("Install\n")  # a heading is not a sentence, but its text is where a caption could be
    assert introduced_span(doc, heading, heading + len("Install"), 600) is None


def test_the_reader_reads_a_caption_with_the_code_it_introduces(readme_index: Index) -> None:
    corpus, model = readme_index.corpus, Recording()
    caption, finished = (quote_of(readme_index, t).candidate for t in ("For async connections with Psycopg 3, use",
                                                                        "The vector type is registered per connection."))
    _, spans = reader_features(corpus, [caption, finished], "How do I register the type for async connections?", model)  # type: ignore[arg-type]
    assert model.texts[0].endswith("For async connections with Psycopg 3, use await register_vector_async(conn)")
    assert model.texts[1].endswith(": The vector type is registered per connection.")  # nothing added
    assert spans[0] is None  # a mark on the code read after the caption is not a mark in the caption
    assert spans[1] is not None and corpus.sentence_text(finished.sentence)[spans[1][0] : spans[1][1]] == "tion."


BUILDING = """# Building

If you prefer to read the documentation in a browser, run the following.

```bash
make docserve
```

Install the tools as follows.

- Python 3.9 or newer
- GNU Make

We followed the usual plan.

```bash
make test
```
"""


def test_a_sentence_that_says_the_following_introduces_the_code_or_list_after_it(tmp_path: Path, fake_embedder: FakeEmbedder
                                                                                  ) -> None:
    """"run the following." or "as follows." leads into what comes next as a colon does; a finished sentence does not."""
    index = markdown_index(tmp_path, fake_embedder, "BUILDING.md", BUILDING)
    doc = index.corpus.documents[0]
    for sentence, shown in (("If you prefer to read the documentation in a browser, run the following.", "make docserve"),
                            ("Install the tools as follows.", "Python 3.9 or newer\n- GNU Make")):
        block = introduced(index.corpus, quote_of(index, sentence), 600)
        assert block is not None and doc.text[block.start : block.end].strip() == shown
    assert introduced(index.corpus, quote_of(index, "We followed the usual plan."), 600) is None

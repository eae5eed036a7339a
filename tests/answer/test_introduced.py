"""Documentation answers with the thing itself: a sentence ending in ":" is quoted with the code block or the list it
introduces, verbatim and with its own offsets, and the chat shows code as code and a list as a list."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from qa import Answer, Index
from qa.answer.blocks import introduced_span, is_header_row
from qa.answer.compose import citation, shown_quote
from qa.answer.crossencoder import Reading
from qa.answer.quotes import Bars, Quote, introduced, select_quotes
from qa.answer.reader import reader_features
from qa.answer.score import Candidate
from qa.app.render import answer_html, passage_html

from helpers import FakeEmbedder
from helpers.documents import GUIDE


def markdown_index(tmp_path: Path, embedder: FakeEmbedder, name: str, text: str) -> Index:
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / name).write_text(text, encoding="utf-8")
    return Index.build([tmp_path / "docs"], tmp_path / "index", embedder=embedder)


@pytest.fixture
def guide_index(tmp_path: Path, fake_embedder: FakeEmbedder) -> Index:
    return markdown_index(tmp_path, fake_embedder, "GUIDE.md", GUIDE)


def bars(further_at: float) -> Bars:
    """The shipped reader's unsure bars, with ``further_at`` set."""
    return Bars(further_at=further_at, unsure_below=0.5, unsure_below_structured=0.8)


def quote_of(index: Index, text: str) -> Quote:
    rows = index.corpus.sentences
    sentence = next(s for s in range(len(rows)) if index.corpus.sentence_text(s) == text)
    return Quote(Candidate(sentence, 1, 0, 1.0, 1.0, probability=0.9), int(rows["start"][sentence]), int(rows["end"][sentence]))


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
    listed = replace(cited[1], layout="list", quote="a\n2. b")
    assert "qa-list" in answer_html(Answer("q", True, "", (listed,)), 2000)
    wrapped = "Explicit triggers.  Run\n   dpkg-trigger.\n * File triggers.  These are\n   activated by dpkg."  # as plain text wraps
    listed = replace(cited[1], layout="list", quote=wrapped, start=0, end=len(wrapped), passage="", passage_start=0,
                     answer_start=None, answer_end=None, path="triggers.txt")
    assert ("Explicit triggers.  Run dpkg-trigger.<br> * File triggers.  These are activated by dpkg."
            in answer_html(Answer("q", True, "", (listed,)), 2000))  # one item a line, its wrapped lines joined


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


class Recording:
    """The reader's model, keeping what it was given to read; it marks the last 5 characters of each text."""

    def __init__(self) -> None:
        self.texts: list[str] = []

    def read(self, question: str, texts: list[str]) -> list[Reading]:
        self.texts += texts
        return [Reading(0.0, (len(t) - 5, len(t)), 1.0) for t in texts]


def test_the_reader_reads_a_caption_with_the_code_it_introduces(readme_index: Index) -> None:
    corpus, model = readme_index.corpus, Recording()
    caption, finished = (quote_of(readme_index, t).candidate for t in ("For async connections with Psycopg 3, use",
                                                                        "The vector type is registered per connection."))
    _, spans = reader_features(corpus, [caption, finished], "How do I register the type for async connections?", model)  # type: ignore[arg-type]
    assert model.texts[0].endswith("For async connections with Psycopg 3, use await register_vector_async(conn)")
    assert model.texts[1].endswith(": The vector type is registered per connection.")  # nothing added
    assert spans[0] is None  # a mark on the code read after the caption is not a mark in the caption
    assert spans[1] is not None and corpus.sentence_text(finished.sentence)[spans[1][0] : spans[1][1]] == "tion."


OPTIONS = """# Options

Set them on the command line.

| Flag | Default | Meaning |
|------|---------|---------|
| `--depth` | 2 | How many levels are shown |
| `--color` | auto | When to use [ANSI colors](https://en.wikipedia.org/wiki/ANSI_escape_code) |

See [the manual](https://example.org/manual.html) for the rest.
"""


def test_the_reader_reads_a_table_row_under_its_header_and_a_link_by_its_words(tmp_path: Path, fake_embedder: FakeEmbedder
                                                                               ) -> None:
    index = markdown_index(tmp_path, fake_embedder, "OPTIONS.md", OPTIONS)
    corpus, model = index.corpus, Recording()
    lines = OPTIONS.splitlines()
    rows = [quote_of(index, lines[n]).candidate for n in (6, 4, 7, 9)]  # --depth, the header, --color, the link
    _, spans = reader_features(corpus, rows, "What is the default depth?", model)  # type: ignore[arg-type]
    assert model.texts[0].endswith(": Flag: --depth; Default: 2; Meaning: How many levels are shown")
    assert model.texts[1].endswith(": | Flag | Default | Meaning |")  # the header row is read as it stands
    assert model.texts[2].endswith(": Flag: --color; Default: auto; Meaning: When to use ANSI colors")
    assert model.texts[3].endswith(": See the manual for the rest.")
    for candidate, span, marked in zip(rows, spans, ("shown", "ing |", "olors", "rest."), strict=True):
        assert span is not None and corpus.sentence_text(candidate.sentence)[span[0] : span[1]] == marked


def test_a_quoted_table_row_is_shown_under_its_header(tmp_path: Path, fake_embedder: FakeEmbedder) -> None:
    index = markdown_index(tmp_path, fake_embedder, "OPTIONS.md", OPTIONS)
    lines = OPTIONS.splitlines()
    row, header = quote_of(index, lines[6]), quote_of(index, lines[4])
    answer = replace(row.candidate, span=(lines[6].index("2"), lines[6].index("2") + 1))  # the reader marks the default
    cited = citation(index.corpus, 1, replace(row, candidate=answer), "What is the default depth?", supports=True)
    assert (cited.layout, cited.header, cited.quote) == ("table", lines[4], lines[6])
    assert shown_quote(cited) == f"\n{lines[4]}\n{lines[6]}\n"  # the answer text and Copy: the header, then the row
    html = answer_html(Answer("What is the default depth?", True, "", (cited,)), 2000)
    assert "<th>Flag</th><th>Default</th><th>Meaning</th>" in html
    assert '<td>--depth</td><td><strong class="qa-span">2</strong></td><td>How many levels are shown</td>' in html
    assert citation(index.corpus, 2, header, "q", supports=True).layout == "prose"  # the header row alone is no table row


def test_the_sources_panel_shows_a_quoted_row_inside_its_table(tmp_path: Path, fake_embedder: FakeEmbedder) -> None:
    index = markdown_index(tmp_path, fake_embedder, "OPTIONS.md", OPTIONS)
    lines = OPTIONS.splitlines()
    row = quote_of(index, lines[6])
    answer = replace(row.candidate, span=(lines[6].index("2"), lines[6].index("2") + 1))
    cited = citation(index.corpus, 1, replace(row, candidate=answer), "What is the default depth?", supports=True)
    doc = index.corpus.documents[0].text
    whole = replace(cited, passage_start=0, passage_end=len(doc), passage=doc)  # the passage: the whole file
    panel = passage_html(whole)
    assert "|" not in panel and "---" not in panel and "`" not in panel  # no Markdown table syntax, no code-span marks
    assert panel.count("<th>Flag</th>") == 1  # the header once, as the table's head (not again as a row)
    assert '<tr class="qa-quoted-row"><td>--depth</td><td><strong class="qa-span">2</strong></td>' in panel
    assert "<tr><td>--color</td><td>auto</td><td>When to use ANSI colors</td></tr>" in panel  # the next row, unmarked
    assert panel.index("Set them on the command line.") < panel.index("<table") < panel.index("See the manual for the rest.")
    inside = doc.index(lines[6])  # a passage that starts at the quoted row still shows the table's header above it
    cut = replace(cited, passage_start=inside, passage_end=len(doc), passage=doc[inside:])
    assert "<th>Flag</th>" in passage_html(cut) and "qa-quoted-row" in passage_html(cut)


@pytest.mark.parametrize(("question", "marked"), [
    ("Which flag sets how many levels are shown?", "`--depth`"),  # the reader's span head marked the 2
    ("What is the default depth?", "2"),  # "depth" is in the Flag cell: given, not asked
    ("What does the --depth flag do?", "2"),  # the flag is given: no header asked, the reader's mark stays
])
def test_a_table_row_marks_the_cell_under_the_header_the_question_names(tmp_path: Path, fake_embedder: FakeEmbedder,
                                                                        question: str, marked: str) -> None:
    index = markdown_index(tmp_path, fake_embedder, "OPTIONS.md", OPTIONS)
    row_text = OPTIONS.splitlines()[6]
    row = quote_of(index, row_text)
    read = replace(row.candidate, span=(row_text.index("2"), row_text.index("2") + 1))  # where the reader marked
    cited = citation(index.corpus, 1, replace(row, candidate=read), question, supports=True)
    assert cited.answer_start is not None and cited.answer_end is not None
    assert index.corpus.documents[0].text[cited.answer_start : cited.answer_end] == marked


def test_a_tables_header_row_is_structure_never_a_quote(tmp_path: Path, fake_embedder: FakeEmbedder) -> None:
    index = markdown_index(tmp_path, fake_embedder, "OPTIONS.md", OPTIONS)
    lines = OPTIONS.splitlines()
    rows = {n: quote_of(index, lines[n]).candidate.sentence for n in (4, 6, 7)}
    assert [is_header_row(index.corpus, rows[n]) for n in (4, 6, 7)] == [True, False, False]
    for question in ("What is the default depth?", "Which flag, default and meaning does each option have?"):
        assert lines[4] not in [c.quote for c in index.answer(question).citations]


def test_the_reader_reads_a_definition_under_its_term(tmp_path: Path, fake_embedder: FakeEmbedder) -> None:
    """"Allows users to add local modifications" answers "What is the staff group for?" only with its term read."""
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "groups.html").write_text(
        "<html><body><h1>Groups</h1><dl><dt>staff</dt><dd><p>Allows users to add local modifications.</p></dd></dl>"
        "<p>Other groups have no user.</p></body></html>", encoding="utf-8")
    index = Index.build([tmp_path / "docs"], tmp_path / "index", embedder=fake_embedder)
    corpus, model = index.corpus, Recording()
    rows = [quote_of(index, text).candidate for text in ("Allows users to add local modifications.", "Other groups have no user.")]
    _, spans = reader_features(corpus, rows, "What is the staff group for?", model)  # type: ignore[arg-type]
    assert model.texts[0].endswith(": staff: Allows users to add local modifications.")
    assert model.texts[1].endswith("Groups: Other groups have no user.")  # no term: the title only
    for candidate, span, marked in zip(rows, spans, ("ions.", "user."), strict=True):
        assert span is not None and corpus.sentence_text(candidate.sentence)[span[0] : span[1]] == marked


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

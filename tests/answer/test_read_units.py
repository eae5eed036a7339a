"""Documentation units read and shown whole: a table row under its header's names (read by the reader, shown as a
table in the chat and the sources panel, its asked-about cell marked), and a definition under its term."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from qa import Answer, Index
from qa.answer.blocks import is_header_row
from qa.answer.compose import citation, shown_quote
from qa.answer.reader import reader_features
from qa.app.render import answer_html, passage_html

from helpers import FakeEmbedder
from helpers.units import Recording, markdown_index, quote_of

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


def test_a_quote_cut_to_a_clause_of_its_sentence_is_shown_with_an_ellipsis_where_the_sentence_goes_on(
        tmp_path: Path, fake_embedder: FakeEmbedder) -> None:
    """A further quote that does not fit the quotes' budget is cut to its best clauses (quotes.clause_window): shown
    alone, "In order to figure out whether a file is binary" reads as if the sentence ended there."""
    sentence = "In order to figure out whether a file is binary, ripgrep looks for NUL bytes, and it stops at the first."
    index = markdown_index(tmp_path, fake_embedder, "GUIDE.md", f"# Binary files\n\n{sentence}\n")
    whole = quote_of(index, sentence)
    first, middle = sentence.index(","), sentence.index(" ripgrep")
    cases = [(whole, (False, False), sentence),
             (replace(whole, end=whole.start + first), (False, True), sentence[:first] + "…"),
             (replace(whole, start=whole.start + middle + 1, end=whole.start + sentence.index(", and")), (True, True),
              "…ripgrep looks for NUL bytes…")]
    for quote, cut, shown in cases:
        cited = citation(index.corpus, 1, quote, "How does ripgrep decide whether a file is binary?", supports=True)
        assert (cited.cut_before, cited.cut_after) == cut and shown_quote(cited) == shown
        assert cited.quote == sentence[quote.start - whole.start : quote.end - whole.start]  # the quote stays verbatim
        html = answer_html(Answer("q", True, "", (cited,)), 2000)
        assert f"“{shown}”" in html.replace('<strong class="qa-span">', "").replace("</strong>", "")

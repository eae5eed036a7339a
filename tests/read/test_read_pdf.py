"""PDF: running headers and footers left out, hyphenated and wrapped lines read as one sentence, columns apart."""

from __future__ import annotations

from pathlib import Path

import pytest

from qa.index.chunk import chunk_document
from qa.read.files import read_document
from qa.read.unwrap import display_text
from qa.settings import ChunkSettings

from helpers import build_quietly
from helpers.documents import bomb_pdf, make_manual


def write_columns(pdf, rows: list[tuple[str, str]], top: float, step: float = 6) -> None:
    """Two columns written row by row, as two-column layouts often are: each row's left cell, then its right one."""
    for row, (a, b) in enumerate(rows):
        pdf.set_xy(10, top + step * row)
        pdf.cell(90, step, a)
        pdf.set_xy(110, top + step * row)
        pdf.cell(90, step, b)


def make_two_columns(path: Path) -> None:
    fpdf = pytest.importorskip("fpdf", reason="fpdf2 (the `test` extra) writes the PDF")
    pdf = fpdf.FPDF()
    pdf.add_page()
    pdf.set_font("helvetica", size=11)
    left = ["The left column starts the story of", "the harbour and its ships."]
    right = ["The right column tells of the", "market and its fish."]
    write_columns(pdf, list(zip(left, right, strict=True)), 20, 7)
    pdf.output(str(path))


def read(path):
    doc = read_document(path)
    chunked = chunk_document(doc.text, doc.source, ChunkSettings(), doc.page_starts, doc.blocks, doc.title)
    return doc, [doc.text[s.start : s.end] for s in chunked.sentences]


def test_running_headers_and_footers_are_left_out(tmp_path):
    make_manual(tmp_path / "manual.pdf")
    doc, _ = read(tmp_path / "manual.pdf")
    assert "Chapter 2" not in doc.text and "Harbour Manual" not in doc.text
    assert len(doc.page_starts) == 2 and doc.page_at(doc.text.index("The bakery on the quay")) == 2


def test_hyphenated_and_wrapped_lines_are_one_sentence_with_exact_offsets(tmp_path):
    make_manual(tmp_path / "manual.pdf")
    doc, sentences = read(tmp_path / "manual.pdf")
    first = next(s for s in sentences if s.startswith("The lighthouse keeper"))
    assert display_text(first) == "The lighthouse keeper counted the passing ships with great enthusiasm every single morning."
    second = next(s for s in sentences if s.startswith("The foghorn"))
    assert display_text(second) == ("The foghorn sounded twice an hour when the fog rolled in from the sea at dusk, "
                                    "and the keeper wrote every signal in the log.")
    assert "\n" in second and doc.text[doc.text.index(second) :].startswith(second)
    assert "- Gulls nested on the old pier." in sentences
    assert doc.section_at(doc.text.index("The baker opens")) == "2.2 The bakery"
    assert doc.section_at(doc.text.index("The foghorn")) == "2.1 Fog signals"


def test_two_columns_do_not_interleave(tmp_path):
    make_two_columns(tmp_path / "columns.pdf")
    _, sentences = read(tmp_path / "columns.pdf")
    texts = [display_text(s) for s in sentences]
    assert "The left column starts the story of the harbour and its ships." in texts
    assert "The right column tells of the market and its fish." in texts


def test_a_pdf_that_inflates_past_the_memory_budget_is_skipped_and_the_rest_indexed(seed_corpus, tmp_path, fake_embedder):
    from qa import ReadSettings, Settings

    (tmp_path / "small.pdf").write_bytes(bomb_pdf(2**20))
    assert "first lit in 1874" in read_document(tmp_path / "small.pdf").text  # the same PDF, small, reads
    (seed_corpus / "bomb.pdf").write_bytes(bomb_pdf(256 * 2**20))  # 256 MB of content stream, 260 KB on disk
    settings = Settings(read=ReadSettings(max_memory_bytes=96 * 2**20))
    index, messages = build_quietly([seed_corpus], tmp_path / "index", fake_embedder, settings)
    assert [doc.source for doc in index.documents] == ["azerbaijan-soldiers-killed-nagorno-karabakh.txt"]
    assert len(messages) == 1 and "bomb.pdf" in messages[0]
    assert "needs more than 96 MB of memory; Settings.read.max_memory_bytes sets the limit" in messages[0]


def make_paper(path: Path) -> None:
    """Two pages of a two-column paper: column lines written row by row, a figure line across both columns, a
    numbered top-level section ("2. Results") that starts on the first page and runs on to the second."""
    fpdf = pytest.importorskip("fpdf", reason="fpdf2 (the `test` extra) writes the PDF")
    pdf = fpdf.FPDF()
    pdf.set_auto_page_break(False)
    left = ["1. Method", "The keeper counted every ship that", "passed the lighthouse during the", "night and wrote the number down.",
            "The log was read each morning.", "2. Results", "The keeper counted four hundred", "ships in the first year of the log."]
    right = ["The harbour master read the log", "and sent a copy of it to the", "town council at the end of the", "month.",
             "The council kept every copy.", "The copies fill a whole shelf", "of the town hall library today.", "Nobody reads them."]
    filler = [f"Entry {n} of the log names a ship." for n in range(12)]  # a page full enough to find its gutter
    left, right = left + filler, right + filler
    for page in range(2):
        pdf.add_page()
        pdf.set_font("helvetica", size=7)
        pdf.set_xy(10, 12)
        pdf.cell(190, 5, "Figure 1: ships counted per month, January to December, in the first and second year of the log")
        pdf.set_font("helvetica", size=10)
        second = [a.replace("1. Method", "The method held.").replace("2. Results", "Results held.") for a in left]
        write_columns(pdf, list(zip(left, right, strict=True)) if page == 0 else list(zip(right, second, strict=True)), 25)
    pdf.output(str(path))


def test_a_two_column_paper_keeps_its_sentences_whole_and_its_sections_across_pages(tmp_path):
    make_paper(tmp_path / "paper.pdf")
    doc, sentences = read(tmp_path / "paper.pdf")
    texts = [display_text(s) for s in sentences]
    assert "The keeper counted every ship that passed the lighthouse during the night and wrote the number down." in texts
    assert "The harbour master read the log and sent a copy of it to the town council at the end of the month." in texts
    assert doc.section_at(doc.text.index("The keeper counted every")) == "1. Method"
    assert doc.section_at(doc.text.index("The keeper counted four")) == "2. Results"
    assert doc.section_at(doc.text.rindex("Nobody reads them.")) == "2. Results"  # page 2 is still in section 2
    assert not any(ch < " " and ch not in "\n\t" for ch in doc.text)


def make_paper_first_page(path: Path) -> None:
    """A paper's first page: its title and authors across the page, a wide figure's caption of three lines across it
    below them, then two columns written row by row. So many runs cross the gutter that the whole page would be read
    across, line by line, the columns' sentences broken and interleaved. Its second page is in columns from the top, as
    a paper's are (in a document whose pages are not, a part of a page across is not looked for)."""
    fpdf = pytest.importorskip("fpdf", reason="fpdf2 (the `test` extra) writes the PDF")
    pdf = fpdf.FPDF()
    pdf.set_auto_page_break(False)
    pdf.add_page()
    pdf.set_font("helvetica", size=10)
    across = ["Counting Ships at Night: A Study of the Harbour Log Kept by the Lighthouse Keepers of the Coast",
              "Anna Keeper, Ben Harbourmaster and Carla Council, of the Harbour Town Historical Society and Museum",
              "keepers@harbour.example.org, master@harbour.example.org, council@harbour.example.org, museum",
              "Figure 1: ships counted per month, January to December, in the first and second year of the log kept",
              "by the keepers; the second year's count is higher in every month but March, when the harbour was",
              "closed for the repair of the quay and the lighthouse, and no ship passed the lighthouse at night."]
    for row, line in enumerate(across):
        pdf.set_xy(10, 10 + 6 * row + 10 * (row >= 3))
        pdf.cell(190, 6, line)
    left = ["The keeper counted every ship that", "passed the lighthouse during the", "night and wrote the number down."]
    right = ["The harbour master read the log", "and sent a copy of it to the", "town council at the end of the month."]
    filler = [f"Entry {n} of the log names a ship." for n in range(30)]
    write_columns(pdf, list(zip(left + filler, right + filler, strict=True)), 60)
    pdf.add_page()
    write_columns(pdf, [(f"Later, {entry.lower()}", f"Later still, {entry.lower()}") for entry in filler], 20)
    pdf.output(str(path))


def test_a_papers_title_and_wide_caption_are_read_across_and_its_columns_one_by_one(tmp_path):
    make_paper_first_page(tmp_path / "first.pdf")
    doc, sentences = read(tmp_path / "first.pdf")
    texts = [display_text(s) for s in sentences]
    assert "The keeper counted every ship that passed the lighthouse during the night and wrote the number down." in texts
    assert "The harbour master read the log and sent a copy of it to the town council at the end of the month." in texts
    assert any("Figure 1: ships counted per month" in t and "higher in every month but March, when the harbour was "
               "closed for the repair" in t for t in texts)
    order = [doc.text.index(part) for part in ("Counting Ships at Night", "Anna Keeper", "Figure 1: ships",
                                               "The keeper counted", "Entry 29 of the log", "The harbour master")]
    assert order == sorted(order)


def test_control_characters_never_reach_the_text_and_numbered_list_items_are_no_headings() -> None:
    from qa.read.pdf import heading_level
    from qa.read.pdfpage import text_lines

    assert text_lines("a SpiderMonkey: Spi\x02derMonkey\r\nen\ufffecoding\x07") == [
        "a SpiderMonkey: SpiderMonkey", "en\u00ad", "coding"]
    assert [heading_level(line) for line in ("7. Evaluation", "10. Future Work", "2. Overview: Example Tracing Run",
                                              "6.6 Correctness", "Acknowledgments", "1. Every line is a shell argument",
                                              "300. ACM New York, NY, USA, 1998.", "2.1. Directory layout",
                                              "1.2. What is this spec?")] == [1, 1, 1, 2, 1, 0, 0, 2, 2]


def test_a_specs_numbered_sections_are_headings_and_its_format_tables_are_not(tmp_path):
    """DocBook numbers sections "2.1." and heads them "2. Unified system" (not in Title Case); a binary format's
    table gives many rows that each look like a heading ("4 CARD32 N_ENTRIES")."""
    fpdf = pytest.importorskip("fpdf", reason="fpdf2 (the `test` extra) writes the PDF")
    pdf = fpdf.FPDF()
    pdf.set_font("helvetica", size=11)
    pdf.add_page()
    lines = ["1. Introduction", "This spec says where the database lives.", "2. Unified system",
             "Each application installs one file.", "2.1. Directory layout", "The files live under the data directory.",
             "2.2. The cache files", "The cache holds a header:", "2 CARD16 MAJOR_VERSION 1", "2 CARD16 MINOR_VERSION 2",
             "4 CARD32 N_ENTRIES", "4 CARD32 GLOB_OFFSET", "The offsets count from the start of the file.",
             "1. Every line is a shell argument"]
    for line in lines:
        pdf.cell(0, 8, line, new_x="LMARGIN", new_y="NEXT")
    pdf.output(str(tmp_path / "spec.pdf"))
    doc = read_document(tmp_path / "spec.pdf")
    assert [doc.text[b.start : b.end] for b in doc.blocks if b.kind == "heading"] == [
        "1. Introduction", "2. Unified system", "2.1. Directory layout", "2.2. The cache files"]
    assert doc.section_at(doc.text.index("The files live")) == "2. Unified system › 2.1. Directory layout"
    assert doc.section_at(doc.text.index("The offsets count")) == "2. Unified system › 2.2. The cache files"


def test_a_list_item_ends_where_a_line_starts_left_of_its_text(tmp_path):
    """A list item's wrapped lines start where its text does, after the bullet; the paragraph after the list starts
    further left. The item's last line ends without a full stop, so only where the lines start tells them apart."""
    fpdf = pytest.importorskip("fpdf", reason="fpdf2 (the `test` extra) writes the PDF")
    pdf = fpdf.FPDF()
    pdf.set_font("helvetica", size=11)
    pdf.add_page()
    hang = pdf.get_string_width("- ")
    for x, line in [(20, "The files created by the update are:"), (20, "- globs (a mapping from names to types)"),
                    (20, "- mime.cache (the same information as the globs, in a"),
                    (20 + hang, "binary, mmappable format that readers map at once)"),
                    (20, "The format of these files is given in the next sections.")]:
        pdf.set_x(x)
        pdf.cell(0, 8, line, new_x="LMARGIN", new_y="NEXT")
    pdf.output(str(tmp_path / "spec.pdf"))
    doc = read_document(tmp_path / "spec.pdf")
    assert [(b.kind, doc.text[b.start : b.end]) for b in doc.blocks] == [
        ("text", "The files created by the update are:"), ("item", "- globs (a mapping from names to types)"),
        ("item", "- mime.cache (the same information as the globs, in a\nbinary, mmappable format that readers map at once)"),
        ("text", "The format of these files is given in the next sections.")]


def test_a_number_that_continues_a_sentence_starts_no_list_item() -> None:
    """A wrapped line can begin with a number ("... and LEN !=", then "0. With this instruction ..."); a numbered line
    after a lead-in or after another item starts one."""
    from qa.read.blocks import TextBuilder
    from qa.read.pdf import add_paragraphs

    builder = TextBuilder()
    add_paragraphs(builder, ["SEQUENCE OF: VALUE must be the null terminated string NEW and the length LEN !=",
                             "0. With this, one more element is appended.",
                             "To add one:", "1. Write the value", "2. Read it back"])
    written = builder.result()
    assert [(b.kind, written.text[b.start : b.end]) for b in written.blocks] == [
        ("text", "SEQUENCE OF: VALUE must be the null terminated string NEW and the length LEN !=\n"
                 "0. With this, one more element is appended."),
        ("text", "To add one:"), ("item", "1. Write the value"), ("item", "2. Read it back")]


def test_a_references_year_at_a_line_start_starts_no_list_item() -> None:
    """ACL-style references put the year first on a wrapped line ("2020. S2ORC: ..."): the reference goes on."""
    from qa.read.blocks import TextBuilder
    from qa.read.pdf import add_paragraphs

    builder = TextBuilder()
    add_paragraphs(builder, ["Kyle Lo, Lucy Lu Wang, Mark Neumann, and Daniel S. Weld.",
                             "2020. S2ORC: The Semantic Scholar Open Research Corpus. In",
                             "Proceedings of ACL, pages 4969–4983.", "1. Write the value", "2. Read it back"])
    written = builder.result()
    assert [b.kind for b in written.blocks] == ["text", "item", "item"]
    assert written.text[written.blocks[0].start : written.blocks[0].end].endswith("pages 4969–4983.")


def test_a_page_of_many_text_runs_is_laid_out_in_bounded_time_and_memory() -> None:
    """Every run of a one-column page crosses the middle: the parts read across are looked for among the first
    and last ``MAX_ACROSS`` of them, not among every pair of them (20,000 runs: 400 million pairs)."""
    import tracemalloc

    from qa.read.pdfpage import find_columns

    one_column = [(50.0, y / 30, 560.0, y / 30 + 5) for y in range(20_000)]
    columns = [(50.0, y, 290.0, y + 5) for y in range(0, 700, 10)] + [(320.0, y, 560.0, y + 5) for y in range(0, 700, 10)]
    title = [(100.0, y, 500.0, y + 5) for y in range(710, 790, 1)]
    tracemalloc.start()
    assert find_columns(one_column, 612, 792) is None
    found = find_columns(title + columns, 612, 792)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert found is not None and 290 <= found.gutter <= 320 and found.bottom == 0 and 705 <= found.top <= 715
    assert peak < 64 * 2**20


def test_a_table_under_prose_in_a_document_in_one_column_is_read_row_by_row(tmp_path):
    """Below a page's prose, a two-column table crosses no gutter: in a document none of whose pages is in columns
    from its top, it is no pair of columns read one after the other."""
    fpdf = pytest.importorskip("fpdf", reason="fpdf2 (the `test` extra) writes the PDF")
    pdf = fpdf.FPDF()
    pdf.set_auto_page_break(False)
    pdf.set_font("helvetica", size=10)
    for page in range(2):
        pdf.add_page()
        for row in range(12):
            pdf.set_xy(10, 10 + 6 * row)
            pdf.cell(190, 6, f"Page {page} line {row} of the prose that runs across the whole width of the page here.")
        write_columns(pdf, [(f"Setting {page}-{row} of the lamp", f"its value {page}-{row} as shipped") for row in range(30)],
                      100)
    pdf.output(str(tmp_path / "manual.pdf"))
    doc = read_document(tmp_path / "manual.pdf")
    assert doc.text.index("its value 0-0 as shipped") < doc.text.index("Setting 0-1 of the lamp")

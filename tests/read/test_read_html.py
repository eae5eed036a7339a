"""HTML read as a person sees it: inline elements inside their sentence, blocks apart, no navigation."""

from __future__ import annotations

import shutil
import warnings

import pytest

from qa import Index
from qa.index.chunk import chunk_document
from qa.read.blocks import TextBuilder
from qa.read.files import read_document
from qa.read.html import add_html, read_html
from qa.settings import ChunkSettings

from helpers import FIXTURES

SIDEBAR = ["Getting Started", "Installation", "First Steps with Cargo", "Configuration", "Introduction"]
MINUS = "\u2212"  # the minus sign, as the Rust book writes its ranges
CHROME = ["Toggle Table of Contents", "Change theme", "Print this book", "Suggest an edit", "Previous chapter",
          "Next chapter", "Light", "Rust", "The Cargo Book"]


def blocks(doc):
    return [(b.kind, doc.text[b.start : b.end], b.section) for b in doc.blocks]


def sentences(doc):
    chunked = chunk_document(doc.text, doc.source, ChunkSettings(), doc.page_starts, doc.blocks, doc.title)
    return [doc.text[s.start : s.end] for s in chunked.sentences], chunked


def test_inline_code_and_links_stay_inside_their_sentence():
    doc = read_document(FIXTURES / "mdbook-profiles.html")
    texts, _ = sentences(doc)
    assert "It is the default for build commands like cargo build, and is used for cargo install --debug." in texts
    assert "Cargo has 4 built-in profiles: dev, release, test, and bench." in texts
    assert "The opt-level setting controls the -C opt-level flag which controls the level of optimization." in texts


def test_sidebar_menu_and_page_navigation_are_left_out():
    doc = read_document(FIXTURES / "mdbook-profiles.html")
    for text in SIDEBAR + CHROME:
        assert text not in doc.text, text
    assert doc.title == "Profiles"


def test_headings_lists_tables_and_code_are_blocks_with_their_heading_path():
    doc = read_document(FIXTURES / "mdbook-profiles.html")
    found = blocks(doc)
    assert ("heading", "opt-level", ("Profiles", "opt-level")) in found
    assert ("item", "0: no optimizations", ("Profiles", "opt-level")) in found
    assert ("item", '"s": optimize for binary size', ("Profiles", "opt-level")) in found
    assert ("table", "cargo test | test profile", ("Profiles", "Default profiles", "dev")) in found
    code = [text for kind, text, _ in found if kind == "code"]
    assert code == ["[profile.dev]\nopt-level = 1               # Use slightly better optimizations."]
    assert doc.section_at(doc.text.index("It is the default")) == "Profiles › Default profiles › dev"
    for block in doc.blocks:
        assert doc.text[block.start : block.end] == doc.text[block.start : block.end].strip()


def test_code_blocks_are_one_sentence_marked_as_code():
    doc = read_document(FIXTURES / "mdbook-profiles.html")
    texts, chunked = sentences(doc)
    marked = [text for text, code in zip(texts, chunked.code, strict=True) if code]
    assert marked == ["[profile.dev]\nopt-level = 1               # Use slightly better optimizations."]
    assert "Profiles" not in texts and "opt-level" not in texts  # headings are not sentences


def test_node_page_keeps_content_and_drops_tocs_banners_and_buttons():
    doc = read_document(FIXTURES / "node-events.html")
    for text in ("Skip to content", "About this documentation", "Assertion testing", "Table of contents",
                 "Node.js v20.20.2 documentation", "copy", "#"):
        assert text not in doc.text.split("\n"), text
    assert "About this documentation" not in doc.text and "Table of contents" not in doc.text
    texts, _ = sentences(doc)
    assert ("Once the event is emitted, the listener is unregistered and then called.") in texts
    code = [doc.text[b.start : b.end] for b in doc.blocks if b.kind == "code"]
    assert code == ["import { EventEmitter } from 'node:events';\nmyEmitter.once('event', () => {});"]  # one flavour
    assert doc.section_at(doc.text.index("Using the eventEmitter.once()")) == "Events › Handling events only once"
    assert "v13.4.0, v12.16.0 | Added captureRejections option." in doc.text


def test_indexing_the_cargo_page_indexes_no_sidebar_entry(tmp_path, fake_embedder):
    shutil.copy(FIXTURES / "mdbook-profiles.html", tmp_path / "profiles.html")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        index = Index.build([tmp_path / "profiles.html"], tmp_path / "index", embedder=fake_embedder)
    passages = [index.corpus.passage(c, 0.0, 1).text for c in range(len(index.corpus.chunks))]
    assert any("It is the default for build commands like cargo build" in p for p in passages)
    for passage in passages:
        for entry in SIDEBAR + CHROME:
            assert entry not in passage, (entry, passage)


@pytest.mark.parametrize(("depth", "tag"), [(1200, "div"), (5000, "b"), (400, "section"), (300, "span")])
def test_deeply_nested_html_keeps_its_text(depth, tag):
    page = (f"<html><body><h1>Ferries</h1>{f'<{tag}>' * depth}The ferry leaves at seven from pier three."
            f"{f'</{tag}>' * depth}<p>It returns at nine.</p></body></html>")
    written = read_html(page, "ferries.html")
    texts = [written.text[b.start:b.end] for b in written.blocks]
    assert texts == ["Ferries", "The ferry leaves at seven from pier three.", "It returns at nine."]


def test_a_page_that_declares_no_charset_is_read_as_utf8(tmp_path):
    """libxml2 reads undeclared HTML as Latin-1: "café" became "cafÃ©" before."""
    page = tmp_path / "notes.html"
    page.write_bytes(f"<html><body><p>Un café à Zürich — “quoted”, {MINUS}1.</p></body></html>".encode())
    assert read_document(page).text == f"Un café à Zürich — “quoted”, {MINUS}1."


@pytest.mark.parametrize("declared", [b'<meta charset="iso-8859-1">',
                                      b'<meta http-equiv="Content-Type" content="text/html; charset=windows-1252">'])
def test_a_chapter_in_another_declared_charset_keeps_it(declared):
    """An EPUB's chapters come as bytes: what is not UTF-8 is read in the charset it declares."""
    builder = TextBuilder()
    add_html(builder, b"<html><head>" + declared + b"</head><body><p>Un caf\xe9 \xe0 Z\xfcrich.</p></body></html>")
    assert builder.result("chapter").text == "Un café à Zürich."


def test_superscripts_and_subscripts_read_as_the_page_shows_them():
    page = (f"<html><body><h2>Powers of 2<sup>n</sup></h2><p>An i8 stores numbers from {MINUS}(2<sup>7</sup>) to 2<sup>7</sup> {MINUS} 1."
            " Water is H<sub>2</sub>O. It sank on the 4<sup>th</sup> day.</p><p>Two long blasts<sup class='footnote'>"
            "<a href='#fn1'>1</a></sup> mean fog.</p><table><tr><td>10<sup>3</sup></td><td>kilo</td></tr></table></body></html>")
    written = read_html(page, "powers.html")
    texts = [written.text[b.start:b.end] for b in written.blocks]
    assert texts == ["Powers of 2ⁿ", f"An i8 stores numbers from {MINUS}(2⁷) to 2⁷ {MINUS} 1. Water is H₂O. It sank on the 4th day.",
                     "Two long blasts¹ mean fog.", "10³ | kilo"]


DEFINITIONS = ("<html><body><h1>Users and groups</h1><h2>Groups</h2><dl><dt>staff</dt><dd><p>Allows users to add local "
               "modifications.</p></dd><dt><code>--max-ampl</code> INTEGER</dt><dd>Set the factor. The default value is 5.</dd>"
               "</dl><p>Other groups have no user.</p></body></html>")


def test_a_definition_lists_terms_head_their_definitions(tmp_path):
    """A term is the heading of its definition ("this group" is staff), one level below the section the list is in;
    after the list the section is as before, and a term is never the document's title."""
    written = read_html(DEFINITIONS, "groups.html")
    shown = [(b.kind, written.text[b.start:b.end], b.section[1:]) for b in written.blocks]
    assert shown == [("heading", "Users and groups", ()), ("heading", "Groups", ("Groups",)),
                     ("term", "staff", ("Groups", "staff")), ("item", "Allows users to add local modifications.", ("Groups", "staff")),
                     ("term", "--max-ampl INTEGER", ("Groups", "--max-ampl INTEGER")),
                     ("item", "Set the factor. The default value is 5.", ("Groups", "--max-ampl INTEGER")),
                     ("text", "Other groups have no user.", ("Groups",))]
    assert read_html("<html><body><dl><dt>root</dt><dd>The superuser.</dd></dl></body></html>", "users.html").title == "users.html"
    page = tmp_path / "groups.html"
    page.write_text(DEFINITIONS, encoding="utf-8")
    doc = read_document(page)
    assert doc.term_at(doc.text.index("The default value")) == "--max-ampl INTEGER"
    assert doc.term_at(doc.text.index("Allows users")) == "staff"
    assert doc.term_at(doc.text.index("Other groups")) == "" and doc.term_at(doc.text.index("Groups")) == ""
    assert "staff" not in sentences(doc)[0]  # a term is structure, never an answer sentence


def test_a_notes_title_leads_its_first_paragraph_as_sphinx_and_mkdocs_show_it() -> None:
    page = ('<html><body><main><h1>Lamp</h1>'
            '<div class="admonition note"><p class="admonition-title">Note</p><p>Never mix two oils.</p><p>Ever.</p></div>'
            '<div class="admonition tip"><p class="admonition-title">Tip</p><pre>$ wicktrim --short</pre></div>'
            '<div class="admonition warning"><p class="admonition-title">Warning</p><ul><li>Hot glass.</li></ul></div>'
            '<p>The end.</p><div class="admonition seealso"><p class="admonition-title">See also</p></div></main></body></html>')
    written = read_html(page)
    assert [(b.kind, written.text[b.start : b.end]) for b in written.blocks] == [
        ("heading", "Lamp"), ("text", "Note: Never mix two oils."), ("text", "Ever."), ("text", "Tip"),
        ("code", "$ wicktrim --short"), ("text", "Warning"), ("item", "Hot glass."), ("text", "The end."), ("text", "See also")]

"""Markdown: the stored text is the file exactly, its structure (headings, items, code, tables) understood."""

from __future__ import annotations

from pathlib import Path

from qa.index.chunk import chunk_document
from qa.read.files import read_document
from qa.settings import ChunkSettings

from helpers import FIXTURES

FIXTURE = FIXTURES / "dns-notes.md"


def read():
    doc = read_document(FIXTURE)
    chunked = chunk_document(doc.text, doc.source, ChunkSettings(), doc.page_starts, doc.blocks, doc.title)
    return doc, chunked, [doc.text[s.start : s.end] for s in chunked.sentences]


def test_text_is_the_file_exactly():
    doc, _, _ = read()
    with open(FIXTURE, encoding="utf-8", newline="") as handle:
        assert doc.text == handle.read()
    assert doc.title == "DNS"


def test_headings_items_tables_code_and_metadata_are_blocks():
    doc, _, _ = read()
    found = [(b.kind, doc.text[b.start : b.end]) for b in doc.blocks]
    assert ("heading", "`resolver.setServers(servers)`") in found
    assert ("item", "returns nothing") in found
    assert ("code", "// Set the servers. Then resolve.\nresolver.setServers(['4.4.4.4']);") in found
    assert ("table", "| `V4MAPPED` | Returns IPv4 mapped IPv6 addresses. |") in found
    assert [kind for kind, text in found if "title: DNS notes" in text or "added: v0.1.16" in text] == ["meta", "meta"]
    assert not any("cli.md#" in text for _, text in found)  # link reference definitions are not blocks
    assert doc.section_at(doc.text.index("The number of tries")) == "DNS › resolver.setServers(servers)"


def test_sentences_never_cut_inside_code_or_links_and_never_start_in_markup():
    _, chunked, texts = read()
    assert "The `node:dns` module enables name resolution." in texts
    link = ('Although named for the\n[Domain Name System (DNS)](https://en.wikipedia.org/wiki/Domain_Name_System "Read more. '
            'Really."), it does not\nalways use the DNS protocol for lookups.')
    assert link in texts
    assert "See `dns.lookup()` (e.g. `/etc/hosts`) for details." in texts
    assert "returns nothing" in texts  # a list item without a full stop is a sentence
    assert ("`tries` {integer} The number of tries the resolver will try contacting\n  each name server before giving up. "
            "**Default:** `4`") in texts
    for text, code in zip(texts, chunked.code, strict=True):
        assert not text.startswith(("* ", "> ", "#", "|-", "```")), text
        assert code == text.startswith("// Set the servers")
    assert not any(text in ("DNS", "title: DNS notes") or "added: v0.1.16" in text for text in texts)


FAQ = """## FAQ

* [When is the next release?](#release)
* [How do I search compressed files?](#compressed)
* See [the guide](GUIDE.md#search) for more.

<h3 name="release">
When is the next release?
</h3>

No dates will ever be given for the next release.

<h3 name="compressed">How do I search <em>compressed</em> files?</h3>

Use the `-z/--search-zip` flag.
"""


def test_a_faq_heading_names_its_section_and_its_contents_list_is_never_a_sentence(tmp_path: Path) -> None:
    path = tmp_path / "FAQ.md"
    path.write_text(FAQ, encoding="utf-8")
    doc = read_document(path)
    chunked = chunk_document(doc.text, doc.source, ChunkSettings(), doc.page_starts, doc.blocks, doc.title)
    texts = [doc.text[s.start : s.end] for s in chunked.sentences]
    assert not any("next release?" in t or "compressed files?" in t for t in texts)  # neither the list nor the headings
    assert "See [the guide](GUIDE.md#search) for more." in texts  # a link to another file is prose
    assert doc.section_at(doc.text.index("No dates")) == "FAQ › When is the next release?"
    assert doc.section_at(doc.text.index("Use the")) == "FAQ › How do I search compressed files?"
    heading = next(b for b in doc.blocks if b.kind == "heading" and "release" in doc.text[b.start : b.end])
    assert doc.text[heading.start : heading.end] == "When is the next release?"  # offsets into the file


def test_a_document_read_before_its_format_reading_changed_is_read_again(tmp_path: Path) -> None:
    from dataclasses import replace

    from qa.read.files import READING

    (tmp_path / "FAQ.md").write_text(FAQ, encoding="utf-8")
    (tmp_path / "notes.txt").write_text("Plain notes.\n", encoding="utf-8")
    guide, notes = read_document(tmp_path / "FAQ.md"), read_document(tmp_path / "notes.txt")
    assert guide.sha256.endswith(READING[".md"]) and notes.sha256.endswith(READING[".txt"]) and len(notes.sha256) == 64 + 6
    earlier = replace(guide, sha256=guide.sha256.removesuffix(READING[".md"]), blocks=())  # stored by an older reading
    assert read_document(tmp_path / "FAQ.md", earlier) == guide  # read again, with today's structure
    assert read_document(tmp_path / "FAQ.md", guide) is guide and read_document(tmp_path / "notes.txt", notes) is notes


SPEC = """TRIGGERS
========

Concepts
--------

We currently envisage three kinds of triggers:
 * Explicit triggers.  These are activated by running
   dpkg-trigger.
 * File triggers.  These are activated by dpkg.

A trigger is always activated by a particular package.
"""


def test_a_plain_text_file_that_underlines_its_headings_has_sections_and_lists(tmp_path: Path) -> None:
    """Specs, notes and release notes in plain text underline their headings: they get sections and list items, the
    text stays the file as written; a text without underlined headings stays one plain text."""
    (tmp_path / "triggers.txt").write_text(SPEC, encoding="utf-8")
    (tmp_path / "notes.txt").write_text("# not a heading in plain text\n\n * nor a list\n", encoding="utf-8")
    spec, notes = read_document(tmp_path / "triggers.txt"), read_document(tmp_path / "notes.txt")
    assert spec.text == SPEC and notes.blocks == ()
    assert [(b.kind, spec.text[b.start : b.end]) for b in spec.blocks] == [
        ("heading", "TRIGGERS"), ("heading", "Concepts"), ("text", "We currently envisage three kinds of triggers:"),
        ("item", "Explicit triggers.  These are activated by running\n   dpkg-trigger."),
        ("item", "File triggers.  These are activated by dpkg."),
        ("text", "A trigger is always activated by a particular package.")]
    assert spec.section_at(spec.text.index("A trigger is")) == "TRIGGERS › Concepts"

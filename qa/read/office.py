"""Reading Word (.docx) and EPUB documents, with their headings.

Word: python-docx gives the body's paragraphs and tables in order; a paragraph
styled "Title" or "Heading N" is a heading, a list style makes a list item, each
table row is a block (its cells joined by " | "). EPUB: ebooklib gives the
chapters in reading (spine) order; each is XHTML, read like any HTML page
(``qa.read.html``), the headings running on from chapter to chapter.
"""

from __future__ import annotations

import io
import re
import zipfile

from ..errors import SourceError
from .blocks import TextBuilder, Written, scripted, squeeze
from .html import add_html

_HEADING_STYLE = re.compile(r"^heading\s*(\d)$", re.IGNORECASE)
_ENTITY = re.compile(rb"<!ENTITY", re.IGNORECASE)


def check_archive(data: bytes, kind: str, limit: int) -> None:
    """Refuse a zip that expands past ``limit`` bytes or whose XML declares entities, before any parser sees it.

    Sizes are checked as declared and again while decompressing (a member can lie about its size), in blocks,
    so a 1 GiB member costs a block of memory, not a gigabyte. Word and EPUB files never need entity
    declarations; refusing them stops "billion laughs" in document.xml or in the EPUB's package file."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        members = archive.infolist()
        declared = sum(m.file_size for m in members)
        if declared > limit:
            raise SourceError(too_big(kind, declared, limit))
        total = 0
        for member in members:
            tail = b""
            with archive.open(member) as stream:
                while block := stream.read(2**20):
                    total += len(block)
                    if total > limit:
                        raise SourceError(too_big(kind, total, limit))
                    if _ENTITY.search(tail + block):
                        raise SourceError(f"cannot read the {kind}: {member.filename} declares XML entities "
                                          "(a Word or EPUB file never needs them; it may be made to exhaust memory)")
                    tail = block[-16:]
    except (zipfile.BadZipFile, zipfile.LargeZipFile, NotImplementedError, EOFError, OSError, RuntimeError) as error:
        raise SourceError(f"cannot read the {kind}: {error}") from error


def too_big(kind: str, size: int, limit: int) -> str:
    return (f"the {kind} expands to more than {limit // 2**20} MB ({size // 2**20}+ MB unpacked); "
            "Settings.read.max_extracted_bytes sets the limit")


def read_docx(data: bytes, limit: int) -> Written:
    """The document's paragraphs, headings and tables, once the archive expands to at most ``limit`` bytes."""
    import docx
    from docx.opc.exceptions import PackageNotFoundError
    from docx.table import Table

    check_archive(data, "Word document", limit)
    try:
        document = docx.Document(io.BytesIO(data))
    except (zipfile.BadZipFile, PackageNotFoundError, KeyError, ValueError) as error:
        raise SourceError(f"cannot read the Word document: {error}") from error
    builder = TextBuilder()
    for part in document.iter_inner_content():
        if isinstance(part, Table):
            for row in part.rows:
                builder.add("table", " | ".join(dict.fromkeys(squeeze(cell.text) for cell in row.cells if cell.text.strip())))
            continue
        style = (part.style.name if part.style is not None else "") or ""
        level = 0 if style.lower() == "title" else int(m.group(1)) if (m := _HEADING_STYLE.match(style)) else None
        if level is not None:  # the title (level 0) stays above the Heading 1 sections
            builder.heading(level, paragraph_text(part))
        else:
            builder.add("item" if "list" in style.lower() else "text", squeeze(paragraph_text(part)))
    return builder.result(squeeze(document.core_properties.title or ""))


def paragraph_text(paragraph) -> str:
    """A Word paragraph's text (python-docx's ``Paragraph.text``), superscript and subscript runs as Word shows them."""
    from docx.text.run import Run

    parts = []
    for inner in paragraph.iter_inner_content():
        for run in [inner] if isinstance(inner, Run) else inner.runs:  # a hyperlink holds runs
            kind = "sup" if run.font.superscript else "sub" if run.font.subscript else ""
            parts.append(scripted(run.text, kind) if kind else run.text)
    return "".join(parts)


def read_epub(data: bytes, limit: int) -> Written:
    """The book's chapters in reading order, once the archive expands to at most ``limit`` bytes."""
    import ebooklib
    from ebooklib import epub

    check_archive(data, "EPUB", limit)
    try:
        book = epub.read_epub(io.BytesIO(data), {"ignore_ncx": True})
    except (zipfile.BadZipFile, KeyError, ValueError, epub.EpubException) as error:
        raise SourceError(f"cannot read the EPUB: {error}") from error
    builder = TextBuilder()
    for idref, _ in book.spine:
        item = book.get_item_with_id(idref)
        if item is None or item.get_type() != ebooklib.ITEM_DOCUMENT or isinstance(item, epub.EpubNav):
            continue  # the book's own table of contents is navigation
        add_html(builder, item.get_content())
    titles = book.get_metadata("DC", "title")
    return builder.result(squeeze(titles[0][0]) if titles else "")

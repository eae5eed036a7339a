"""Reading sources: the only module that opens source files.

Supported: .txt (UTF-8, text kept exactly as in the file; underlined headings and the lists under them
structured as Markdown would: ``markdown.read_plain``), .md (the file exactly,
its structure from ``qa.read.markdown``), .rst (the page docutils makes of it, read as HTML:
``qa.read.rst``), .ipynb (its cells as Markdown: ``qa.read.notebook``), .html/.htm (the page's content as blocks:
``qa.read.html``), .pdf (text per page via pypdfium2: ``qa.read.pdf``, page offsets kept), .docx and .epub
(``qa.read.office``). Anything else, or a file that cannot be decoded, is skipped with a reason.
"""

from __future__ import annotations

import codecs
import errno
import functools
import hashlib
import os
import stat
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path

from ..errors import SourceError
from ..settings import ReadSettings, listed
from ..types import Document, Skipped
from .blocks import Written

TEXT_SUFFIXES = {".txt"}
MARKDOWN_SUFFIXES = {".md", ".markdown"}
RST_SUFFIXES = {".rst"}
NOTEBOOK_SUFFIXES = {".ipynb"}
HTML_SUFFIXES = {".html", ".htm"}
PDF_SUFFIXES = {".pdf"}
BOOK_SUFFIXES = {".docx", ".epub"}
SUPPORTED_SUFFIXES = TEXT_SUFFIXES | MARKDOWN_SUFFIXES | RST_SUFFIXES | NOTEBOOK_SUFFIXES | HTML_SUFFIXES | PDF_SUFFIXES | BOOK_SUFFIXES
MAIN_SUFFIXES = (".txt", ".md", ".rst", ".ipynb", ".html", ".pdf", ".docx", ".epub")  # one of each kind, as messages name them
FILE_TYPES = listed(MAIN_SUFFIXES)  # ".txt, .md, ... or .epub"


def iter_source_files(paths: Iterable[str | Path]) -> Iterator[Path]:
    """Files named directly, and every file under the folders named, in a stable order."""
    for given in paths:
        path = Path(given).expanduser()
        if path.is_dir():  # every entry but folders: pipes and broken links are reported, not silently left out
            yield from _walk(path, set())
        elif path.exists() or path.is_symlink():
            yield path
        else:
            raise SourceError(f"No such file or folder: {path}. Check the path and try again.")


def _walk(folder: Path, seen: set[Path]) -> Iterator[Path]:
    """The entries under ``folder`` that are not folders, in path order, hidden names left out; a symbolic link to a
    folder is walked into like a folder (each folder once, so a link back up ends)."""
    resolved = folder.resolve()
    if resolved in seen:
        return
    seen.add(resolved)
    for entry in sorted(folder.iterdir()):
        if entry.name.startswith("."):
            continue
        if entry.is_dir():
            yield from _walk(entry, seen)
        else:
            yield entry


def read_sources(
    paths: Iterable[str | Path], known: Mapping[str, Document] | None = None, budget: ReadSettings | None = None
) -> tuple[list[Document], list[Skipped]]:
    """Read every supported file; collect the ones that cannot be read instead of failing.

    ``known`` maps paths to documents read before: a file whose bytes have the same
    hash is not parsed again.
    """
    documents: list[Document] = []
    skipped: list[Skipped] = []
    seen: set[Path] = set()
    for path in iter_source_files(paths):
        try:
            resolved = check_file_kind(path)
        except SourceError as error:
            skipped.append(Skipped(str(path.absolute()), str(error)))
            continue
        if resolved in seen:
            continue
        seen.add(resolved)
        try:
            documents.append(read_document(resolved, (known or {}).get(str(resolved)), budget))
        except SourceError as error:
            skipped.append(Skipped(str(resolved), str(error)))
    return documents, skipped


def check_file_kind(path: Path) -> Path:
    """The resolved path of a regular file with a UTF-8 name, or a SourceError saying why it is skipped."""
    try:
        resolved = path.resolve(strict=True)
        mode = resolved.stat().st_mode
    except RuntimeError as error:  # what Python 3.11 raises for a symbolic link loop
        raise SourceError("a symbolic link that loops back to itself") from error
    except OSError as error:
        if error.errno == errno.ELOOP:
            raise SourceError("a symbolic link that loops back to itself") from error
        if isinstance(error, FileNotFoundError) and path.is_symlink():
            raise SourceError("a broken symbolic link: what it points to does not exist") from error
        raise SourceError(f"cannot read the file: {error.strerror or error}") from error
    if not stat.S_ISREG(mode):  # reading a named pipe would wait forever
        raise SourceError("not a regular file (a named pipe, socket or device)")
    try:
        str(resolved).encode("utf-8")
    except UnicodeEncodeError as error:
        raise SourceError("the file name is not valid UTF-8; rename the file") from error
    return resolved


# A format whose reading changed: its files are read again by the next build of an index made before (their
# documents' hash carries the mark), while the others are reused. PDF 2: columns, headings and control characters
# (2026-12-05); Markdown 2: raw-HTML headings and tables of contents. 2026-12-07: HTML and EPUB 2, UTF-8 where no
# charset is declared, <sup> and <sub> raised and lowered, a definition list's terms head their definitions; Word 2,
# superscript and subscript runs so too; PDF 3, DocBook's section numbers, numbers that repeat are no headings,
# a list item ends at a line that starts left of its text, a number continuing a sentence starts none; plain
# text 2, underlined headings and the lists under them. 2026-12-08: HTML and EPUB 3, a paragraph inside a list item or
# a definition is read as that item. reStructuredText is read as the HTML it makes: it carries HTML's mark; a notebook
# as the Markdown it makes: Markdown's.
READING = ({s: "+read2" for s in (*TEXT_SUFFIXES, *MARKDOWN_SUFFIXES, *NOTEBOOK_SUFFIXES, ".docx")}
           | {s: "+read3" for s in (*RST_SUFFIXES, *HTML_SUFFIXES, ".epub", *PDF_SUFFIXES)})


def read_document(path: Path, known: Document | None = None, budget: ReadSettings | None = None) -> Document:
    """The document in the file at ``path`` (``known`` when its bytes are unchanged), read within ``budget``."""
    budget = budget or ReadSettings()
    suffix = path.suffix.lower()
    if suffix not in SUPPORTED_SUFFIXES:
        raise SourceError(f"unsupported file type {suffix or '(none)'}; use {FILE_TYPES}")
    try:
        data = stable_bytes(path, budget)
    except OSError as error:
        raise SourceError(f"cannot read the file: {error.strerror or error}") from error
    digest = content_hash(suffix, data)
    if known is not None and known.sha256 == digest:
        return known
    written = parse(suffix, data, path.name, budget)
    if not written.text.strip():
        raise SourceError("no text found in the file")
    return Document(str(path), path.name, written.text, digest, written.page_starts, written.blocks, written.title)


def stable_bytes(path: Path, budget: ReadSettings, tries: int = 3) -> bytes:
    """The file's bytes, read whole while its size and modification time stayed the same (a file being written is
    read again, up to ``tries`` times): text read mid-write would be indexed with offsets that fit neither version."""
    for _ in range(tries):
        before = path.stat()
        if before.st_size > budget.max_file_bytes:
            raise SourceError(f"file is {before.st_size / 2**20:.0f} MiB; the limit is {budget.max_file_bytes // 2**20} MiB "
                              "(Settings.read.max_file_bytes)")
        data = path.read_bytes()
        after = path.stat()
        if (before.st_size, before.st_mtime_ns) == (after.st_size, after.st_mtime_ns) and len(data) == after.st_size:
            return data
    raise SourceError(f"the file kept changing while it was read ({tries} tries); index it again once it is saved")


def still_holds(path: str, sha256: str) -> bool:
    """Whether the file at ``path`` still holds the bytes of the document indexed as ``sha256`` (one stat when it
    was checked before and its size and modification time are the same)."""
    try:
        status = os.stat(path)
    except OSError:
        return False
    return _same_bytes(path, status.st_size, status.st_mtime_ns, sha256)


@functools.lru_cache(maxsize=4096)
def _same_bytes(path: str, size: int, mtime_ns: int, sha256: str) -> bool:  # size and time: the cache's key
    try:
        return content_hash(Path(path).suffix, Path(path).read_bytes()) == sha256
    except OSError:
        return False


def content_hash(suffix: str, data: bytes) -> str:
    """What identifies a document's text: its bytes' SHA-256, marked with the reading it had (``READING``)."""
    return hashlib.sha256(data).hexdigest() + READING.get(suffix.lower(), "")


def parse(suffix: str, data: bytes, name: str, budget: ReadSettings) -> Written:
    """The text to store for a file of this type, with its blocks when the format has structure."""
    if suffix in PDF_SUFFIXES:
        from .pdf import read_pdf

        return read_pdf(data, budget)
    if suffix in HTML_SUFFIXES:
        from .html import read_html

        return read_html(decode_text(data), name)
    if suffix == ".docx":
        from .office import read_docx

        return read_docx(data, budget.max_extracted_bytes)
    if suffix == ".epub":
        from .office import read_epub

        return read_epub(data, budget.max_extracted_bytes)
    if suffix in NOTEBOOK_SUFFIXES:
        from .notebook import read_notebook

        return read_notebook(decode_text(data), budget)
    if suffix in RST_SUFFIXES:
        from .rst import read_rst

        return read_rst(decode_text(data), name, budget)
    if suffix in MARKDOWN_SUFFIXES:
        from .markdown import read_markdown

        return read_markdown(decode_text(data))
    from .markdown import read_plain

    return read_plain(decode_text(data))


_BOMS = ((codecs.BOM_UTF32_LE, "utf-32"), (codecs.BOM_UTF32_BE, "utf-32"), (codecs.BOM_UTF16_LE, "utf-16"),
         (codecs.BOM_UTF16_BE, "utf-16"))  # UTF-32 first: its little-endian mark starts like UTF-16's


def decode_text(data: bytes) -> str:
    """The text of a file as editors read it: a UTF-16 or UTF-32 byte-order mark decides the encoding (what
    Windows Notepad writes), else UTF-8 (a UTF-8 mark stays in the text, so offsets match the file).
    A NUL anywhere in the text means a binary file, so both stores read the same files."""
    encoding = next((name for bom, name in _BOMS if data.startswith(bom)), "utf-8")
    try:
        # For UTF-8, exactly what open(path, encoding="utf-8", newline="").read() returns.
        text = data.decode(encoding)
    except UnicodeDecodeError as error:
        raise SourceError(f"not valid {encoding.upper()} text (byte {error.start}); save it as UTF-8") from error
    if "\x00" in text:
        raise SourceError("looks like a binary file (it contains NUL characters)")
    return text

"""Reading reStructuredText (.rst) as its rendered page shows it.

docutils, reStructuredText's reference parser (the one Sphinx builds on), turns the file into an HTML page, and
``qa.read.html`` reads that page as it reads any other: headings, paragraphs, literal blocks, lists, tables, option,
field and definition lists keep their structure, and inline markup is shown as a reader sees it. The text the index
holds is the rendered page's, as for HTML; citations point into it.

Sphinx's own roles and directives (``:func:`get```, ``.. versionadded:: 2.0``, ``.. option:: --verbose``) are
given the meaning they have on a Sphinx page, without Sphinx: ``autodoc``'s directives would import the project's
code, which reading a file must never do, so they and other directives that only steer a build (``toctree``,
``index``) show nothing. The page is made with every directive that reads another file or a URL turned off
(``include``, ``raw``, ``csv-table :file:``), and no docutils configuration file is read.
"""

from __future__ import annotations

import re

from ..errors import SourceError
from ..settings import ReadSettings
from .blocks import Written
from .sandbox import run_sized
from .sphinx import register_found

_SETTINGS = {
    "file_insertion_enabled": False,  # no include, no csv-table :file: or :url:, no image read for its size
    "raw_enabled": False,
    "_disable_config": True,  # no docutils.conf from the working folder or the home folder
    "report_level": 5,  # a markup mistake is left as written, never reported into the page
    "halt_level": 5,
    "warning_stream": False,
    "syntax_highlight": "none",  # code as plain text
    "math_output": "LaTeX",  # formulas as their source (the HTML reader skips MathML)
    "embed_stylesheet": False,
    "stylesheet_path": "",
    "cloak_email_addresses": False,
    "input_encoding": "unicode",
    "output_encoding": "unicode",
}
_ASIDE = re.compile(r"<(/?)aside\b")
_FOOTNOTE_LABEL = re.compile(r'(<span class="label">.*?</span>)\s*<p>')


IN_PROCESS_BYTES = 256 * 2**10  # docutils' memory grows with size x nesting depth: a larger file is read in a child


def read_rst(text: str, fallback_title: str = "", budget: ReadSettings | None = None) -> Written:
    """The page that the reStructuredText ``text`` makes, read as HTML; its title is the document's title. A text
    over ``IN_PROCESS_BYTES`` is made into its page in a child process within ``budget``'s memory and time."""
    from .html import read_html

    page = run_sized(page_html, text.encode("utf-8"), IN_PROCESS_BYTES, budget or ReadSettings(), "reStructuredText")
    return read_html(page, fallback_title)


def page_html(data: bytes) -> str:
    """The HTML page of a reStructuredText text (UTF-8 bytes)."""
    from docutils.core import publish_parts

    text = data.decode("utf-8").lstrip("\ufeff")
    register_found(text)
    try:
        parts = publish_parts(text, writer="html5", settings_overrides=_SETTINGS)
    except RecursionError as error:
        raise SourceError("the reStructuredText is nested too deeply to read; flatten its indentation") from error
    except MemoryError:  # in a child: its memory cap, reported as such
        raise
    except Exception as error:  # docutils' own failure on a malformed file: that file is skipped, the rest indexed
        raise SourceError(f"docutils could not read the reStructuredText ({type(error).__name__}: {error})") from error
    # docutils' HTML5 puts notes, warnings and footnotes in <aside>, which a page's reader leaves out as a sidebar:
    # here they are the document's own text (raw HTML is off, so every tag is docutils'). A footnote's label ("[1]")
    # leads its paragraph, as on the page, instead of standing alone.
    return _FOOTNOTE_LABEL.sub(r"<p>\1 ", _ASIDE.sub(r"<\1div", parts["html_body"]))

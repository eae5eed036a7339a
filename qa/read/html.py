"""Reading HTML as a person sees it: the page's content as blocks, with their headings.

lxml (libxml2's HTML parser) builds the tree; this module walks it with the
block/inline model of CSS: inline elements (``<code>``, ``<a>``, ``<em>``...) stay
inside their sentence, block elements (paragraphs, list items, headings, table
rows, ``<pre>``) become separate blocks. The content is the page's ``<main>``
(or ``role="main"``, or ``<article>``) when it has one, else its ``<body>``, and
inside it navigation, sidebars, tables of contents, menus, headers, footers,
buttons, banners, forms and scripts are left out (by tag, ARIA role and class).

Why this and not a ready-made extractor: measured on the ten real pages in
``../shared/eval/docs`` (``bench/html_extractors.py``, figures in bench/results/READING.md),
resiliparse (98.8% of paragraphs whole, no navigation) and readability come
close, trafilatura and jusText cut paragraphs or drop code, inscriptis,
html-text and selectolax keep navigation or split paragraphs. None of them
gives the headings and block kinds with offsets that section titles and code
marking need; this walk of lxml's tree keeps 99.9% of paragraphs whole, no
navigation link and as many code blocks as the best (98.2%), and gives both.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from .blocks import TextBuilder, Written, scripted, squeeze

if TYPE_CHECKING:
    from lxml.html import HtmlElement

HEADINGS = {"h1": 1, "h2": 2, "h3": 3, "h4": 4, "h5": 5, "h6": 6}
BLOCK_KIND = {"li": "item", "dd": "item", "blockquote": "text", "p": "text"}
BLOCK_TAGS = {
    "address", "article", "blockquote", "body", "caption", "center", "dd", "details", "dialog", "div", "dl",
    "dt", "fieldset", "figcaption", "figure", "hr", "li", "main", "ol", "p", "section", "summary",
    "table", "tbody", "thead", "tfoot", "ul", "html",
}
SKIP_TAGS = {
    "script", "style", "noscript", "template", "svg", "math", "nav", "header", "footer", "aside", "form",
    "button", "input", "select", "textarea", "iframe", "canvas", "object", "embed", "head", "title", "meta",
    "link", "menu", "dialog",
}
SKIP_ROLES = {
    "navigation", "banner", "contentinfo", "complementary", "search", "menu", "menubar", "toolbar",
    "dialog", "alertdialog", "tablist",
}
# class or id words of page furniture (only on containers, never on headings or inline text)
_FURNITURE = re.compile(
    r"(?:^|[\s_-])(?:nav|navbar|navigation|sidebar|toc|menu|menu-bar|breadcrumbs?|skip-to-content|cookies?|"
    r"banner|copy-button|edit|pagination|searchbar|search)(?:$|[\s_-])",
    re.IGNORECASE,
)
_CONTAINERS = {"div", "section", "ul", "ol", "span", "details", "dl"}
_PERMALINKS = {"#", "¶", "§", "🔗", "link"}
_MAIN = ("//main", "//*[@role='main']", "//article")


def read_html(markup: str, fallback_title: str = "") -> Written:
    """The page's visible content as blocks; its title is the page's first heading or ``<title>``."""
    builder = TextBuilder()
    title = add_html(builder, markup.encode("utf-8"), "utf-8")
    return builder.result(builder.title or title or fallback_title)


def add_html(builder: TextBuilder, markup: bytes, encoding: str | None = None) -> str:
    """Add a page's content to ``builder`` (an EPUB adds its chapters one by one); returns its ``<title>``.
    ``encoding``: the markup's, when known."""
    # libxml2 reads a page that declares no charset as Latin-1 ("cafÃ©"); bytes that are valid UTF-8 are meant as
    # UTF-8, any others are left to the charset the page declares
    encoding = encoding or ("utf-8" if _is_utf8(markup) else None)
    root = _parse(markup, encoding)
    if root is None:
        return ""
    mark = builder.mark()
    try:
        _Walker(builder).walk(content_root(root))
    except RecursionError:  # nested deeper than Python's stack: read it again flattened
        builder.undo(mark)
        root = _parse(flatten(markup), encoding)
        if root is None:
            return ""
        _Walker(builder).walk(content_root(root))
    return squeeze(root.findtext(".//title") or "")


_INLINE_TAG = re.compile(rb"</?(?:b|i|em|strong|span|font|u|s|small|big|sub|sup|mark|abbr|cite|q|ins|del|tt|nobr)\b[^>]*>", re.I)
_BOX_TAG = re.compile(
    rb"<(/?)(?:div|section|article|aside|main|header|footer|blockquote|center|dl|dd|dt|ul|ol|li|table|tbody|tr|td|th|form|fieldset)"
    rb"\b[^>]*>",
    re.I,
)


def flatten(markup: bytes) -> bytes:
    """The markup with inline tags dropped and boxes made paragraphs (which the parser closes one by one), so
    no nesting is left: a page nested past the parser's or Python's depth loses its layout, not its text."""
    return _BOX_TAG.sub(lambda m: b"</p>" if m.group(1) else b"<p>", _INLINE_TAG.sub(b"", markup))


def _is_utf8(markup: bytes) -> bool:
    try:
        markup.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def _parse(markup: bytes, encoding: str | None, flat: bool = False) -> HtmlElement | None:
    """lxml's tree of the page (``encoding``: None for the one it declares); a page nested past libxml2's depth
    limit of 256 (it drops the text inside) is parsed again flattened (not with ``huge_tree``, which also lifts
    the parser's other safety limits)."""
    import lxml.html
    from lxml.etree import ParserError

    parser = lxml.html.HTMLParser(encoding=encoding)
    try:
        root = lxml.html.document_fromstring(markup, parser=parser)
    except (ParserError, ValueError):
        return None
    if not flat and any("depth" in entry.message.lower() for entry in parser.error_log):
        return _parse(flatten(markup), encoding, flat=True)
    return root


def content_root(root):
    """The element holding the page's content: the only ``<main>``, role=main or ``<article>``, else the body."""
    for query in _MAIN:
        found = root.xpath(query)
        if len(found) == 1:
            return found[0]
    body = root.find("body")
    return body if body is not None else root


def skipped(element) -> bool:
    """Page furniture: navigation, menus, sidebars, banners, buttons, scripts, hidden elements."""
    tag = element.tag if isinstance(element.tag, str) else ""
    if not tag or tag in SKIP_TAGS:
        return True
    get = element.get
    if get("hidden") is not None or get("aria-hidden") == "true" or (get("role") or "").lower() in SKIP_ROLES:
        return True
    if tag in _CONTAINERS and _FURNITURE.search(f"{get('class') or ''} {get('id') or ''}"):
        return True
    return tag == "a" and squeeze(element.text_content()) in _PERMALINKS


class _Walker:
    """Collects inline text into the current block and starts a new block at each block element."""

    def __init__(self, builder: TextBuilder) -> None:
        self.builder = builder
        self.parts: list[str] = []
        self.kind = "text"
        self.lead = ""  # a note's title ("Note", "Warning"), waiting to lead the note's first paragraph

    def walk(self, root) -> None:
        self.visit(root)
        self.flush()
        self.alone()

    def flush(self) -> None:
        text = squeeze("".join(self.parts))
        self.parts.clear()
        if text:
            lead, self.lead = self.lead, ""
            self.builder.add(self.kind, f"{lead}: {text}" if lead else text)

    def alone(self) -> None:
        """A note's title that no paragraph follows (a code block does) is a block of its own."""
        if self.lead:
            self.builder.add("text", self.lead)
            self.lead = ""

    def visit(self, element) -> None:
        tag = element.tag if isinstance(element.tag, str) else ""
        if tag in ("ul", "ol", "dl", "table"):
            self.flush()
            self.alone()
        if skipped(element):
            pass
        elif tag == "pre":
            self.flush()
            self.alone()
            self.builder.add("code", code_text(element))
        elif tag in HEADINGS:
            self.flush()
            self.alone()
            self.builder.heading(HEADINGS[tag], inline_text(element))
        elif tag == "p" and "admonition-title" in (element.get("class") or "").split():
            self.flush()  # Sphinx's, MkDocs' and docutils' notes: "Note: Never mix two oils.", as a reader says it
            self.alone()
            self.lead = inline_text(element)
        elif tag == "dl":
            self.definitions(element)
        elif tag == "tr":
            self.flush()
            cells = [inline_text(cell) for cell in element if cell.tag in ("td", "th")]
            self.builder.add("table", " | ".join(cell for cell in cells if cell))
        elif tag == "br":
            self.parts.append("\n")
        elif tag in ("sup", "sub"):
            self.parts.append(script_text(element))
        else:
            self.visit_children(element, tag)
        if element.tail:
            self.parts.append(element.tail)

    def definitions(self, dl) -> None:
        """A definition list: each term heads the definitions after it, and the section is as before once it ends."""
        self.flush()
        path = list(self.builder.path)
        level = (path[-1][0] if path else 0) + 1  # one below the section the list is in
        for child in dl:
            if child.tag == "dt" and not skipped(child):
                self.flush()
                self.builder.heading(level, inline_text(child), "term")
                if child.tail:
                    self.parts.append(child.tail)
            else:
                self.visit(child)
        self.flush()
        self.builder.path = path

    def visit_children(self, element, tag: str) -> None:
        block = tag in BLOCK_TAGS or tag in HEADINGS
        saved = self.kind
        if block:
            self.flush()
            # a paragraph inside a list item or a definition is still that item (Sphinx's and docutils' lists)
            self.kind = saved if tag == "p" and saved == "item" else BLOCK_KIND.get(tag, saved)
        if element.text:
            self.parts.append(element.text)
        for child in element:
            self.visit(child)
        if block:
            self.flush()
            self.kind = saved


def inline_text(element) -> str:
    """The visible text of an element on one line (furniture and permalinks left out)."""
    parts: list[str] = []

    def collect(node) -> None:
        if skipped(node):
            return
        if node.text:
            parts.append(node.text)
        for child in node:
            if child.tag in ("sup", "sub") and not skipped(child):
                parts.append(script_text(child))
            else:
                collect(child)
            if child.tail:
                parts.append(child.tail)

    collect(element)
    return squeeze("".join(parts))


def script_text(element) -> str:
    """A ``<sup>`` or ``<sub>``'s text as the page shows it (``blocks.scripted``)."""
    return scripted(inline_text(element), element.tag)


def code_text(pre) -> str:
    """A code block's text as written. When a ``<pre>`` holds several ``<code>`` versions of one
    example (Node's docs give it as ES module and as CommonJS), the first one is kept."""
    codes = [child for child in pre if child.tag == "code"]
    source = codes[0] if len(codes) > 1 else pre
    parts: list[str] = []

    def collect(node) -> None:
        if node.text:
            parts.append(node.text)
        for child in node:
            if not skipped(child):
                collect(child)
            if child.tail:
                parts.append(child.tail)

    collect(source)
    return "".join(parts).strip("\n").rstrip()

"""Which HTML extractor reads the real documentation pages the way a person does?

    pip install -e ".[bench]"; python -m bench.html_extractors [../shared/eval/docs]

For each HTML page in the folder, the reference is taken from the page itself:
- paragraphs: the text of every ``<p>`` inside the page's main content;
  a paragraph counts as whole when it sits on one line of the extractor's output
  (whitespace squeezed), i.e. its inline ``<code>``/``<a>`` did not split it;
- navigation: the link texts of the page's ``<nav>``, sidebar and table-of-contents
  lists (at least 8 characters, and not also text of the main content); a leak is
  one that comes out as a line of its own;
- code: the first line of every ``<pre>`` block, found in the output.
Figures go to bench/results/READING.md by hand.
"""

from __future__ import annotations

import re
import sys
import time
from collections.abc import Callable, Iterable
from pathlib import Path

import lxml.html
from lxml.html import HtmlElement

DOCS = Path(__file__).resolve().parent.parent.parent / "shared" / "eval" / "docs"
_SPACES = re.compile(r"\s+")
NAV = "//nav//a | //*[@role='navigation']//a | //*[@id='gtoc']//a | //*[@id='toc']//a | //*[contains(@class,'sidebar')]//a"


def squeeze(text: str) -> str:
    return _SPACES.sub(" ", text).strip()


def html_elements(found: Iterable[object]) -> list[HtmlElement]:
    """The elements of an xpath or iter result, typed as lxml.html makes them: its stubs say plain ``_Element``
    (no ``text_content``), but every element of an lxml.html tree is an HtmlElement."""
    return [element for element in found if isinstance(element, HtmlElement)]


def find(root: HtmlElement, query: str) -> list[HtmlElement]:
    found = root.xpath(query)
    assert isinstance(found, list)  # a path to elements: a node set, never a string or number
    return html_elements(found)


def reference(markup: str) -> tuple[list[str], list[str], list[str]]:
    root = lxml.html.document_fromstring(markup.encode())
    assert isinstance(root, HtmlElement)  # as every element of an lxml.html tree (see html_elements)
    main = (find(root, "//main") or find(root, "//*[@role='main']") or [root])[0]
    paragraphs = [squeeze(p.text_content()) for p in html_elements(main.iter("p"))]
    content = squeeze(main.text_content())
    nav_texts = {squeeze(a.text_content()) for a in find(root, NAV)}
    nav = [t for t in nav_texts if len(t) >= 8 and t not in content]
    code = [squeeze(pre.text_content().strip().split("\n")[0]) for pre in html_elements(main.iter("pre"))]
    return [p for p in paragraphs if len(p) >= 20], nav, [c for c in code if c]


def ours(markup: str) -> list[str]:
    from qa.read.html import read_html

    written = read_html(markup)
    return [written.text[b.start : b.end] for b in written.blocks]


def trafilatura_text(markup: str) -> list[str]:
    import trafilatura

    return (trafilatura.extract(markup, include_tables=True, include_formatting=False, favor_recall=True) or "").splitlines()


def inscriptis_text(markup: str) -> list[str]:
    import inscriptis

    return inscriptis.get_text(markup).splitlines()


def html_text_text(markup: str) -> list[str]:
    import html_text

    return html_text.extract_text(markup, guess_layout=True).splitlines()


def resiliparse_text(markup: str) -> list[str]:
    from resiliparse.extract.html2text import extract_plain_text

    return extract_plain_text(markup, main_content=True, preserve_formatting=True).splitlines()


def selectolax_text(markup: str) -> list[str]:
    from selectolax.lexbor import LexborHTMLParser

    tree = LexborHTMLParser(markup)
    tree.strip_tags(["script", "style", "noscript", "svg"])
    return (tree.body.text(separator="\n") if tree.body else "").splitlines()


def readability_text(markup: str) -> list[str]:
    from readability import Document

    summary = lxml.html.fromstring(Document(markup).summary())
    return [squeeze(el.text_content()) for el in html_elements(summary.iter("p", "li", "pre", "h1", "h2", "h3", "h4", "td"))]


def justext_text(markup: str) -> list[str]:
    import justext

    return [p.text for p in justext.justext(markup.encode(), justext.get_stoplist("English")) if not p.is_boilerplate]


def old_reader(markup: str) -> list[str]:
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(markup, "html.parser")
    for tag in soup(["script", "style", "noscript", "template", "svg", "nav", "header", "footer", "form"]):
        tag.decompose()
    return soup.get_text("\n").splitlines()


EXTRACTORS: dict[str, Callable[[str], list[str]]] = {
    "before (bs4 get_text)": old_reader,
    "trafilatura": trafilatura_text,
    "inscriptis": inscriptis_text,
    "html-text": html_text_text,
    "resiliparse (main_content)": resiliparse_text,
    "selectolax (text)": selectolax_text,
    "readability-lxml": readability_text,
    "justext": justext_text,
    "lxml block walk (qa.read.html)": ours,
}


def measure(folder: Path) -> list[tuple[str, float, float, float, float]]:
    pages = [path.read_text(encoding="utf-8") for path in sorted(folder.glob("*.html"))]
    refs = [reference(page) for page in pages]
    rows = []
    for name, extract in EXTRACTORS.items():
        whole = total = leaked = nav_total = kept = code_total = 0
        began = time.perf_counter()
        outputs = [extract(page) for page in pages]
        seconds = time.perf_counter() - began
        for lines, (paragraphs, nav, code) in zip(outputs, refs, strict=True):
            lines = [squeeze(line) for line in lines if line.strip()]
            joined = "\n".join(lines)
            line_set = set(lines)
            whole += sum(any(p in line for line in lines) for p in paragraphs)
            total += len(paragraphs)
            leaked += sum(t in line_set for t in nav)
            nav_total += len(nav)
            kept += sum(c in joined for c in code)
            code_total += len(code)
        rows.append((name, 100 * whole / total, 100 * leaked / max(nav_total, 1), 100 * kept / max(code_total, 1), seconds))
    return rows


def main() -> None:
    folder = Path(sys.argv[1]) if len(sys.argv) > 1 else DOCS
    print("| extractor | paragraphs whole | navigation links leaked | code blocks kept | seconds (10 pages) |")
    print("|---|---|---|---|---|")
    for name, whole, leaked, kept, seconds in measure(folder):
        print(f"| {name} | {whole:.1f}% | {leaked:.1f}% | {kept:.1f}% | {seconds:.2f} |")


if __name__ == "__main__":
    main()

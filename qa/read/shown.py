"""What a reader of a rendered Markdown document sees of its text, character by character, for the app to show quotes
and the reader to read them as shown."""

from __future__ import annotations

import re

from .markdown import line_offset, line_starts, markdown_parser


def shown_chars(text: str) -> list[str]:
    """What a reader of the rendered document sees of each character of ``text``: the character, "" for inline
    markup (a code span's backticks, emphasis marks, a link's brackets and destination, an escape's backslash,
    inline HTML), an entity's character for its first one, a space for a line break inside a paragraph.

    One entry per character, so that text cut at any offsets (a quote, the answer inside it) reads as the
    document does even where markup spans the cut. A code block's fence lines are not shown (the code is shown in
    its own font); other block marks (``#``, ``*``, ``>``) and the code stay as written. markdown-it-py's inline
    tokens carry no offsets, so each one is found in turn after the last; where one cannot be (markup this does not
    know), its paragraph is shown as written.
    """
    parser = markdown_parser().disable("text_join")  # keep escapes and entities apart from the text around them
    references = _AnyReference()
    tokens = parser.parse(text, {"references": references})
    shown = list(text)
    lines = line_starts(text)
    at = 0
    for token in tokens:
        if token.type == "fence" and token.map:
            _hide_fences(text, lines, token.map, shown)
        if token.type != "inline" or not token.map or not token.children:
            continue
        first_line = token.content.split("\n", 1)[0].strip()
        start = text.find(first_line, max(at, line_offset(text, lines, token.map[0])))
        if start < 0:
            continue
        walk = _Walk(text, list(shown), parser, references, start)
        try:
            walk.tokens(token.children)
        except _Lost:
            continue
        shown, at = walk.shown, walk.at
    return shown


def _hide_fences(text: str, lines: list[int], span: list[int], shown: list[str]) -> None:
    """A fenced code block's opening line and, where it has one, its closing line, newlines included, shown as ""."""
    first, last = span[0], span[1] - 1
    for line in (first, last) if last > first else (first,):
        start, end = line_offset(text, lines, line), line_offset(text, lines, line + 1)
        if text[start:end].strip().startswith(("```", "~~~")):
            shown[start:end] = [""] * (end - start)


class _AnyReference(dict):
    """A passage is cut from its document, so the definitions of its reference links ("[RFC 5952][]") are
    usually not in it: every label counts as defined. The definitions it holds are kept, for shortcut links."""

    def get(self, label, default=None):
        return super().get(label) or {"href": "", "title": ""}


class _Lost(Exception):
    """A token was not where it should be in the text."""


_GAP = re.compile(r"[\s>]*")  # what may stand between two inline tokens: spaces, line ends, block quote marks


class _Walk:
    """Finds a paragraph's inline tokens in ``text`` one after another from ``at``, hiding their markup in ``shown``."""

    def __init__(self, text: str, shown: list[str], parser, references: _AnyReference, at: int) -> None:
        self.text, self.shown, self.parser, self.references = text, shown, parser, references
        self.at = at
        self.links: list[int] = []  # where each open link's "[" is

    def find(self, piece: str, hide: bool = False) -> int:
        """Where ``piece`` stands next, with only spaces before it; ``hide``: hide it."""
        found = self.text.find(piece, self.at)
        if found < 0 or not _GAP.fullmatch(self.text, self.at, found):
            raise _Lost(piece)
        self.at = found + len(piece)
        if hide:
            self.hide(found, self.at)
        return found

    def hide(self, start: int, end: int) -> None:
        self.shown[start:end] = [""] * (end - start)

    def tokens(self, children) -> None:
        for token in children:
            kind = token.type
            if kind == "text":
                self.find(token.content)
            elif kind == "text_special":  # an escape ("\\*") or an entity ("&amp;")
                at = self.find(token.markup, hide=True)
                self.shown[at if token.info == "entity" else at + 1] = token.content
            elif kind in ("softbreak", "hardbreak"):
                at = self.find("\n")
                if kind == "hardbreak" and self.text[at - 1] == "\\":
                    self.shown[at - 1] = ""
                if kind == "softbreak":
                    self.shown[at] = " "
                    gap = _GAP.match(self.text, at + 1)
                    assert gap is not None  # the pattern matches the empty string too
                    self.at = gap.end()
                    self.hide(at + 1, self.at)
            elif kind == "code_inline":
                at = self.find(token.markup, hide=True)
                close = re.compile(rf"(?<!`){token.markup}(?!`)").search(self.text, self.at)
                if close is None:
                    raise _Lost(token.markup)
                for i in range(self.at, close.start()):
                    self.shown[i] = " " if self.text[i] == "\n" else self.shown[i]
                self.hide(close.start(), close.end())
                self.at = close.end()
            elif kind.endswith(("_open", "_close")) and kind.startswith(("strong", "em")):
                self.find(token.markup, hide=True)
            elif kind == "html_inline":
                self.find(token.content, hide=True)
            elif kind in ("link_open", "link_close") and token.markup == "autolink":
                self.find("<" if kind == "link_open" else ">", hide=True)
            elif kind == "link_open":
                self.links.append(self.find("[", hide=True))
            elif kind == "link_close":
                self.close_link(self.links.pop(), "link")
            elif kind == "image":
                at = self.find("![", hide=True)
                self.tokens(token.children or [])
                self.close_link(at, "image")
            else:
                raise _Lost(kind)

    def close_link(self, start: int, rule: str) -> None:
        """Hide the "]" that ends a link's text and the destination or label after it; a shortcut link
        ("[text]") whose definition the passage does not hold keeps its brackets: it may be just brackets."""
        from markdown_it.common.utils import normalizeReference
        from markdown_it.rules_inline.image import image
        from markdown_it.rules_inline.link import link
        from markdown_it.rules_inline.state_inline import StateInline

        bracket = self.find("]")
        state = StateInline(self.text, self.parser, {"references": self.references}, [])
        state.pos = start
        if not (image if rule == "image" else link)(state, True):
            raise _Lost(rule)
        label = self.text[start + 1 : bracket] if rule == "link" else ""
        if state.pos == bracket + 1 and rule == "link" and normalizeReference(label) not in self.references:
            self.shown[start] = "["
            return
        self.hide(bracket, state.pos)
        self.at = state.pos

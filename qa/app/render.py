"""HTML for the chat app: answers with numbered quotes, passages with the quote highlighted, the source list.

Pure functions over the public dataclasses; every piece of source or user text is escaped.
The class names (``qa-answer``, ``qa-abstain``, ``qa-cite``, ``qa-passage`` ...) are styled by ``CSS``.
"""

from __future__ import annotations

import re
from html import escape

from .. import Answer, Citation, Passage
from ..display import join_lines, unwrap
from .quoting import Piece, Show, has_passage, pieces, quote_html, table_passage_html, table_row_html
from .service import SourceRow

_ITEM_START = re.compile(r"\n(?=[ \t]*(?:[-*+•◦▪‣·–]|\d+[.)])[ \t]+)")  # a line break before a list item's marker
_BULLET = re.compile(r"^[ \t]*[-*+•◦▪‣·–][ \t]+")  # a bullet item's marker: the list's border shows it is a list

CSS = """
.qa-answer, .qa-abstain, .qa-notice, .qa-info, .qa-error { line-height: 1.5; }
.qa-quote { margin: 0 0 .5em 0; }
.qa-written { margin: 0 0 .75em 0; padding: 0 0 .5em 0; border-bottom: 1px solid var(--border-color-primary); }
.qa-written p { margin: 0 0 .25em 0; }
.qa-written-by { font-size: .8em; opacity: .75; }
.qa-written-note { margin: 0 0 .5em 0; }
.qa-quote q { quotes: "\\201C" "\\201D"; }
.qa-code { font-family: var(--font-mono, monospace); font-size: .9em; white-space: pre; overflow-x: auto; margin: 0 0 .25em 0;
  padding: .4em .6em; border-radius: 4px; background: rgba(100,116,139,.12); }
.qa-list { border-left: 3px solid rgba(100,116,139,.35); padding-left: .6em; }
.qa-table { border-collapse: collapse; margin: 0 0 .25em 0; font-size: .95em; }
.qa-table th, .qa-table td { border: 1px solid rgba(100,116,139,.35); padding: .2em .5em; text-align: left; }
.qa-passage-table { margin: .4em 0; }
.qa-quoted-row td { background: #fde68a; color: #1f2937; }
.qa-quoted-row strong { background: #f59e0b; color: #111827; }
.qa-cite { font: inherit; font-weight: 700; color: var(--color-accent); white-space: nowrap; cursor: pointer;
  border: 0; background: none; padding: 0; margin: 0; display: inline; }
.qa-cite:hover { text-decoration: underline; }
.qa-cite:focus-visible, .qa-copy:focus-visible { outline: 2px solid var(--color-accent); outline-offset: 1px; border-radius: 2px; }
.qa-copy { font: inherit; font-size: .8em; cursor: pointer; margin: .4em 0 0 0; padding: 0 .5em;
  border: 1px solid var(--border-color-primary); border-radius: 4px; background: none; color: inherit; opacity: .8; }
.qa-copy:hover { opacity: 1; }
.qa-span { background: #fde68a; color: #1f2937; border-radius: 3px; padding: 0 2px; }
.qa-refs { font-size: .85em; opacity: .8; margin: .25em 0 0 0; }
.qa-abstain { border-left: 4px solid #d97706; padding: .25em .75em; background: rgba(217,119,6,.08); }
.qa-abstain-title { font-weight: 700; color: #b45309; margin: 0 0 .25em 0; }
.qa-not-answer, .qa-refs-title { font-style: italic; }
.qa-notice { font-size: .85em; color: #b45309; margin: .5em 0 0 0; }
.qa-info { border-left: 4px solid #64748b; padding: .25em .75em; background: rgba(100,116,139,.08); }
.qa-ok { border-left: 4px solid #16a34a; padding: .25em .75em; background: rgba(22,163,74,.08); }
.qa-error { border-left: 4px solid #dc2626; padding: .25em .75em; background: rgba(220,38,38,.08); }
.qa-card { border: 1px solid var(--border-color-primary); border-radius: 8px; padding: .75em 1em; }
.qa-card.qa-closest { border-style: dashed; }
.qa-card-head { display: flex; gap: .5em; align-items: baseline; flex-wrap: wrap; margin-bottom: .5em; }
.qa-badge { font-weight: 700; background: var(--color-accent); color: white; border-radius: 4px; padding: 0 .4em; }
.qa-where { opacity: .75; font-size: .9em; }
.qa-section { font-weight: 600; }
.qa-passage { white-space: pre-wrap; line-height: 1.6; margin: 0; font-family: var(--font); }
.qa-passage mark { background: #fde68a; color: #1f2937; padding: 1px 0; }
.qa-passage mark.qa-code { display: inline; white-space: pre-wrap; margin: 0; }  /* a quoted code block, in its font */
.qa-passage .qa-context-code { display: inline-block; white-space: pre-wrap; margin: 0; }  /* code around the quote */
.qa-closest .qa-passage mark { background: #e5e7eb; }
.qa-passage mark strong { background: #f59e0b; color: #111827; }
.qa-empty { opacity: .7; font-style: italic; }
.qa-sources { width: 100%; border-collapse: collapse; font-size: .9em; }
.qa-sources th, .qa-sources td { text-align: left; padding: .25em .5em; border-bottom: 1px solid var(--border-color-primary); }
/* The upload's progress: in words ("Embedding passages and their sentences - 20%", then "159/799 texts | 5.0s"), stacked, on a
   plain background instead of drawn over the previous status line. */
#library-status { min-height: 96px; }
/* Gradio's `div.svelte-1jts93g { transition: all .15s }` also transitions visibility, which stays `visible` until a
   transition to `hidden` ends: the old status showed through the progress for .15 s, long enough to see when the
   progress reaches "Embedding" that soon. No transition while pending: it hides at once (and fades back after). */
#library-status .html-container.pending { visibility: hidden; transition: none; }
#library-status [data-testid="status-tracker"]:not(.hide) { display: flex; flex-direction: column; justify-content: center;
  gap: 4px; background: var(--block-background-fill); }
#library-status .progress-level { order: 1; width: 90%; }
#library-status .progress-text { order: 2; position: static !important; transform: none !important; }
.qa-pending { font-style: italic; opacity: .75; }
.qa-pending::after { content: ""; display: inline-block; width: 1em; animation: qa-dots 1.2s steps(4) infinite; }
@keyframes qa-dots { 0% { content: ""; } 25% { content: "."; } 50% { content: ".."; } 75% { content: "..."; } }
/* A phone: the question box takes the row's width, Ask beside it; the sources column follows the chat. */
@media (max-width: 640px) {
  #ask-row { flex-wrap: nowrap; gap: 6px; }
  #ask-row > :first-child { flex: 1 1 auto !important; min-width: 0 !important; }
  #ask-row > #ask { flex: 0 0 auto !important; width: auto !important; min-width: 56px !important; padding: 0 12px; }
}
"""


def location(citation: Citation | Passage) -> str:
    """Where a quote or passage stands: "page 3, line 41" for PDFs, "line 12" otherwise."""
    return f"page {citation.page}, line {citation.line}" if citation.page else f"line {citation.line}"


def source_title(citation: Citation | Passage) -> str:
    """The source with the section the quote sits under: "cargo-features.html › Features › Feature unification"."""
    return f"{citation.source} › {citation.section}" if citation.section else citation.source


def citation_label(citation: Citation) -> str:
    """The label of a citation in the sources panel's chooser."""
    return f"[{citation.n}] {source_title(citation)}, {location(citation)}"


# Under the sentences checked so far, while the model writes (``stopped_html`` replaces it after Stop).
WRITING_LINE = '<p class="qa-written-by qa-writing">'
WRITING = (WRITING_LINE + "{model} is writing from the quotes below; each sentence shows once it "
           "has been checked against them…</p>")


def answer_html(answer: Answer, max_question_chars: int) -> str:
    """The chat message for an answer, or a clearly different notice for an abstention."""
    if answer.answered:
        quotes = "".join(_quoted(c) for c in answer.citations)
        body = (f'<div class="qa-answer" role="group" aria-label="Answer">{_written(answer)}{quotes}'
                f'{_refs(answer.citations, "Sources")}')
    else:
        body = (
            '<div class="qa-abstain" role="note" aria-label="Not found in the sources">'
            '<p class="qa-abstain-title">Not found in the sources</p>'
            f"<p>{escape(answer.text)}</p>{_refs(answer.citations, 'Closest passages, not an answer')}"
        )
    if answer.truncated:
        body += (
            f'<p class="qa-notice">Your question was very long, so only its first '
            f"{max_question_chars:,} characters were used.</p>"
        )
    return body + _copy_button(answer) + "</div>"


def _written(answer: Answer) -> str:
    """The answer in words above its quotes, each [n] a button like the quotes' own; or the line saying why not."""
    written = answer.written
    if written is None:
        return ""
    text = re.sub(r"\[(\d+)\]", lambda m: _cite_button(int(m.group(1))), escape(written.text))
    if not written.finished:
        return f'<div class="qa-written">{f"<p>{text}</p>" if text else ""}{WRITING.format(model=escape(written.model))}</div>'
    if not written.text:
        return f'<p class="qa-notice qa-written-note">{escape(written.note)}</p>'
    note = f" {escape(written.note)}" if written.note else ""
    return (f'<div class="qa-written"><p>{text}</p><p class="qa-written-by">Written by {escape(written.model)} '
            f"from the quotes below; every sentence was checked against them.{note}</p></div>")


def stopped_html(content: str) -> str:
    """An answer's chat message after Stop: what was written and checked stays, the "writing" line says it stopped."""
    start = content.find(WRITING_LINE)
    if start < 0:
        return content
    end = content.index("</p>", start) + len("</p>")
    return content[:start] + '<p class="qa-written-by">Stopped: the rest was not written.</p>' + content[end:]


def _cite_button(n: int) -> str:
    return (f'<button type="button" class="qa-cite" aria-label="Show passage {n}" title="Show passage {n}">'
            f"[{n}]</button>")


def _quoted(c: Citation) -> str:
    """One quote of an answer with its [n] button: prose in quotation marks, a code block as code, list items as lines."""
    button = _cite_button(c.n)
    if c.layout == "code":  # a newline as a character reference: a blank line would end the HTML block in Markdown
        code = escape(pieces(c)(c.start, c.end).strip("\n")).replace("\n", "&#10;")
        return f'<div class="qa-quote"><pre class="qa-code"><code>{code}</code></pre>{button}</div>'
    if c.layout == "list":
        return f'<p class="qa-quote qa-list">{quote_html(c, pieces(c), _items)} {button}</p>'
    if c.layout == "table" and c.header:
        return f'<div class="qa-quote">{table_row_html(c)}{button}</div>'
    before, after = "…" if c.cut_before else "", "…" if c.cut_after else ""  # a clause of a sentence that goes on
    return f'<p class="qa-quote">“{before}{quote_html(c, pieces(c), lambda text: _lines(join_lines(text)))}{after}” {button}</p>'


def _copy_button(answer: Answer) -> str:
    """The answer's Copy button; its ``value`` is the plain text it copies (CITE_CLICK_JS in the page copies it).
    Gradio's own copy button would copy the message's HTML; its sanitizer drops data-* attributes, not ``value``."""
    text = escape(answer.to_text()).replace("\n", "&#10;")  # a blank line would end the HTML block in Markdown
    return f'<button type="button" class="qa-copy" value="{text}" title="Copy the answer as plain text">Copy</button>'


def _refs(citations: tuple[Citation, ...], title: str) -> str:
    if not citations:
        return ""
    items = "; ".join(f"[{c.n}] {escape(source_title(c))}, {location(c)}" for c in citations)
    changed = [c for c in citations if c.source_changed]
    note = f'<p class="qa-notice qa-changed">{_changed_note(changed)}</p>' if changed else ""
    return f'<p class="qa-refs"><span class="qa-refs-title">{escape(title)}:</span> {items}</p>{note}'


def _changed_note(changed: list[Citation]) -> str:
    names = ", ".join(sorted({escape(c.source) for c in changed}))
    return (f"{names} changed since it was indexed: the quotes from it are the indexed text and may no longer be in the "
            "file; index it again (upload it again, or restart the app).")


def notice_html(text: str, kind: str = "notice") -> str:
    """A message that is not an answer: "notice" (a friendly prompt), "error", or "ok" (a change went through)."""
    css = {"error": "qa-error", "ok": "qa-ok"}.get(kind, "qa-info")
    return f'<div class="{css}"><p>{_lines(text)}</p></div>'


def pending_html() -> str:
    """The placeholder in the chat while an answer is being looked for."""
    return '<div class="qa-pending" role="status" aria-live="polite">Looking in your sources…</div>'


def question_html(question: str, limit: int = 600) -> str:
    """The user's question as shown in the chat (escaped; a very long one is shortened on screen), inside an HTML
    block so that the chat's Markdown leaves it as typed: ``![x](url)`` is text, never an image the browser fetches."""
    shown = question if len(question) <= limit else question[:limit] + f"… ({len(question):,} characters)"
    return f'<div class="qa-question">{_lines(shown)}</div>'


def passage_html(citation: Citation) -> str:
    """A citation's source, location and surrounding passage, with the quote marked."""
    show: Show = (lambda text: escape(unwrap(text))) if citation.page else escape  # PDF lines wrap
    closest = "" if citation.supports_answer else '<span class="qa-not-answer">closest passage, not an answer</span>'
    name = escape(f"Passage {citation.n}: {citation.source}, {location(citation)}")
    changed = f'<p class="qa-notice qa-changed">{_changed_note([citation])}</p>' if citation.source_changed else ""
    return (
        f'<div class="qa-card{"" if citation.supports_answer else " qa-closest"}" role="group" aria-label="{name}">'
        f'<div class="qa-card-head"><span class="qa-badge">[{citation.n}]</span>'
        f'<strong class="qa-source">{escape(citation.source)}</strong>{_section(citation)}'
        f'<span class="qa-where">{location(citation)} · characters {citation.start:,}–{citation.end:,}</span>{closest}</div>{changed}'
        f"{_passage(citation, pieces(citation), show)}</div>"
    )


def _passage(citation: Citation, piece: Piece, show: Show) -> str:
    """The passage around a quote, the quote marked: a quoted table row inside its table, under the table's header."""
    if citation.layout == "table" and citation.header and has_passage(citation):
        return table_passage_html(citation, piece, show)
    before = _context(citation, piece, show, citation.passage_start, citation.start)
    after = _context(citation, piece, show, citation.end, citation.passage_end)
    code = ' class="qa-code"' if citation.layout == "code" else ""
    return f'<p class="qa-passage">{before}<mark{code}>{quote_html(citation, piece, show)}</mark>{after}</p>'


def _context(citation: Citation, piece: Piece, show: Show, start: int, end: int) -> str:
    """The passage between two offsets, its code blocks in the code font."""
    parts, at = [], start
    for a, b in citation.passage_code:
        a, b = max(a, start), min(b, end)
        if a < b:
            parts += [show(piece(at, a)), f'<span class="qa-code qa-context-code">{show(piece(a, b))}</span>']
            at = b
    return "".join(parts) + show(piece(at, end))


def _section(citation: Citation) -> str:
    return f'<span class="qa-section">› {escape(citation.section)}</span>' if citation.section else ""


def empty_sources_html(text: str = "Ask a question: the passages behind its answer appear here.") -> str:
    return f'<p class="qa-empty">{escape(text)}</p>'


def sources_table_html(rows: list[SourceRow]) -> str:
    """The indexed sources: name, kind, size and passages."""
    if not rows:
        return empty_sources_html("No sources yet. Upload a file to start.")
    body = "".join(
        f"<tr><td>{escape(r.source.name)}</td><td>{r.source.kind}</td><td>{_size(r.source.size)}</td>"
        f"<td>{r.passages if r.passages else 'not indexed'}</td></tr>"
        for r in rows
    )
    head = "<thead><tr><th>Source</th><th>Kind</th><th>Size</th><th>Passages</th></tr></thead>"
    return f'<table class="qa-sources">{head}<tbody>{body}</tbody></table>'


def _size(size: int) -> str:
    return f"{size / 2**20:.1f} MiB" if size >= 2**20 else f"{max(1, round(size / 1024))} KiB"


def _items(text: str) -> str:
    """List items one to a line, each item's wrapped lines joined (a plain-text or PDF list is wrapped by hand), without
    a bullet's marker (the first item's is before the quote; a number stays)."""
    return "<br>".join(escape(join_lines(_BULLET.sub("", item))) for item in _ITEM_START.split(text))


def _lines(text: str) -> str:
    """Escaped text with line breaks kept (a blank line would end an HTML block in Markdown)."""
    return escape(text).replace("\n", "<br>")

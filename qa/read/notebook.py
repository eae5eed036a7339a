"""Reading Jupyter notebooks (.ipynb) as the notebook shows them.

Each Markdown cell is Markdown, each code cell a code block in the notebook's language, and a code cell's text output
(what it printed, returned or raised) a code block after it; images, HTML and widget outputs are left out. The
Markdown this makes is read by ``qa.read.markdown``, and it is the text the index holds: citations point into it.

The notebook's JSON is read with the standard library, not nbformat: nbformat's schema check refuses notebooks that
Jupyter still opens (a missing ``execution_count``, an unknown field), and only the cells' text is needed here.
"""

from __future__ import annotations

import functools
import json
import re
from typing import Any

from ..errors import SourceError
from ..settings import ReadSettings
from .blocks import Written
from .markdown import markdown_parser, read_markdown
from .sandbox import run_sized

IN_PROCESS_BYTES = 4 * 2**20  # larger: read in the memory-capped child (images make real notebooks megabytes)
MAX_OUTPUT_CHARS = 2_000  # a cell's output beyond this is cut: a log or a long table is not what is asked about
_BACKTICKS = re.compile(r"`{3,}")
_parser = functools.cache(markdown_parser)  # one for all of a notebook's cells


def read_notebook(text: str, budget: ReadSettings | None = None) -> Written:
    """The notebook ``text`` (its JSON) as Markdown: its cells in order, with their text outputs. JSON of many small
    objects takes many times its size in memory, so a notebook over ``IN_PROCESS_BYTES`` is read in a child process
    within ``budget``'s memory and time."""
    return read_markdown(run_sized(notebook_markdown, text.encode("utf-8"), IN_PROCESS_BYTES, budget or ReadSettings(),
                                   "notebook"))


def notebook_markdown(data: bytes) -> str:
    """The Markdown a notebook's cells make (its JSON as UTF-8 bytes)."""
    try:
        notebook = json.loads(data)
    except (ValueError, RecursionError) as error:
        raise SourceError(f"not a notebook: its JSON cannot be read ({str(error)[:80]})") from error
    language = _language(notebook) if isinstance(notebook, dict) else ""
    return "\n\n".join(part for cell in _cells(notebook) for part in _parts(cell, language) if part.strip()) + "\n"


def _cells(notebook: Any) -> list[dict[str, Any]]:
    """The cells of a version 4 notebook, or of the first worksheet of a version 3 one."""
    if isinstance(notebook, dict) and isinstance(notebook.get("cells"), list):
        cells = notebook["cells"]
    elif isinstance(notebook, dict) and notebook.get("worksheets") and isinstance(notebook["worksheets"], list):
        cells = (notebook["worksheets"][0] or {}).get("cells", []) if isinstance(notebook["worksheets"][0], dict) else []
    else:
        raise SourceError("not a notebook: its JSON has no cells (save it from Jupyter as .ipynb)")
    return [cell for cell in cells if isinstance(cell, dict)]


def _language(notebook: dict[str, Any]) -> str:
    metadata = notebook.get("metadata") if isinstance(notebook.get("metadata"), dict) else {}
    for key, field in (("kernelspec", "language"), ("language_info", "name")):
        found = metadata.get(key) if isinstance(metadata, dict) else None
        if isinstance(found, dict) and isinstance(found.get(field), str) and found[field].isidentifier():
            return str(found[field])
    return ""


def _parts(cell: dict[str, Any], language: str) -> list[str]:
    """What a cell shows: a Markdown cell's text; a code cell's code and its text outputs, each as a code block."""
    kind = cell.get("cell_type")
    if kind == "markdown":
        return [_closed(_text(cell.get("source")))]
    if kind != "code":
        return []  # raw cells are for converters, not shown
    code = _text(cell.get("source", cell.get("input")))
    outputs = cell.get("outputs")
    outputs = outputs if isinstance(outputs, list) else []
    return [_fenced(code, language), *(_fenced(shown, "") for shown in map(_output_text, outputs) if shown.strip())]


def _closed(markdown: str) -> str:
    """A Markdown cell's text with the code fence it leaves open closed: Jupyter renders each cell alone, so such a
    fence ends with its cell instead of making the cells after it code."""
    blocks = [token for token in _parser().parse(markdown) if token.level == 0 and token.map]
    if not blocks or blocks[-1].type != "fence":  # a fence in a quote or a list ends with it
        return markdown
    last, lines = blocks[-1], markdown.splitlines()
    closing = lines[last.map[1] - 1].strip() if last.map[1] <= len(lines) else ""
    if last.map[1] - last.map[0] >= 2 and closing.startswith(last.markup) and not closing.strip(last.markup[0]):
        return markdown
    return markdown.rstrip("\n") + "\n" + last.markup


def _output_text(output: Any) -> str:
    """An output's text, cut at ``MAX_OUTPUT_CHARS``: a stream, a result's or display's text/plain, an error."""
    if not isinstance(output, dict):
        return ""
    if output.get("output_type") == "stream":
        text = _text(output.get("text"))
    elif output.get("output_type") == "error":
        text = f"{output.get('ename', '')}: {output.get('evalue', '')}"
    else:
        data = output.get("data")
        data = data if isinstance(data, dict) else output  # version 3 keeps it on the output, under "text"
        text = _text(data.get("text/plain", data.get("text")))
    return text if len(text) <= MAX_OUTPUT_CHARS else text[:MAX_OUTPUT_CHARS].rstrip() + "\n…"


def _text(source: Any) -> str:
    """A cell's source or an output's text: a string, or a list of lines to be joined as they are."""
    if isinstance(source, str):
        return source
    if isinstance(source, list):
        return "".join(line for line in source if isinstance(line, str))
    return ""


def _fenced(code: str, language: str) -> str:
    """``code`` as a fenced block whose fence no run of backticks inside it can close."""
    if not code.strip():
        return ""
    fence = "`" * max([3, *(len(run) + 1 for run in _BACKTICKS.findall(code))])
    return f"{fence}{language}\n{code.rstrip()}\n{fence}"

"""Jupyter notebooks read as the notebook shows them: Markdown cells as Markdown, code cells and their text outputs as
code blocks; images left out, long outputs cut, a file that is not a notebook skipped with its reason."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from qa.errors import SourceError
from qa.read import notebook
from qa.read.files import read_document
from qa.read.unwrap import shown_characters

CELLS = [
    {"cell_type": "markdown", "metadata": {}, "source": ["# Tide tables\n", "\n", "Load the readings first:"]},
    {"cell_type": "code", "execution_count": 1, "metadata": {}, "source": "import pandas as pd\ntides = pd.read_csv('tides.csv')",
     "outputs": []},
    {"cell_type": "code", "execution_count": 2, "metadata": {}, "source": ["tides.height.max()"],
     "outputs": [{"output_type": "execute_result", "execution_count": 2, "metadata": {},
                  "data": {"text/plain": ["4.2"], "image/png": "iVBORw0KGgo="}},
                 {"output_type": "stream", "name": "stdout", "text": "x" * 5000}]},
    {"cell_type": "raw", "metadata": {}, "source": "not shown"},
    {"cell_type": "markdown", "metadata": {}, "source": "## Spring tides\n\nThey come with the new and the full moon."},
    {"cell_type": "code", "metadata": {}, "source": "print('```')", "outputs": [
        {"output_type": "error", "ename": "KeyError", "evalue": "'height'", "traceback": ["\u001b[31mKeyError"]}]},
]


def write(tmp_path: Path, content: object, name: str = "tides.ipynb") -> Path:
    path = tmp_path / name
    path.write_text(json.dumps(content) if not isinstance(content, str) else content, encoding="utf-8")
    return path


def test_a_notebook_reads_as_its_cells_show_it(tmp_path: Path) -> None:
    doc = read_document(write(tmp_path, {"cells": CELLS, "metadata": {"kernelspec": {"language": "python"}}, "nbformat": 4}))
    found = [(b.kind, doc.text[b.start : b.end], b.section) for b in doc.blocks]
    assert doc.title == "Tide tables"
    assert found[:4] == [("heading", "Tide tables", ("Tide tables",)), ("text", "Load the readings first:", ("Tide tables",)),
                         ("code", "import pandas as pd\ntides = pd.read_csv('tides.csv')", ("Tide tables",)),
                         ("code", "tides.height.max()", ("Tide tables",))]
    assert ("code", "4.2", ("Tide tables",)) in found  # the result's text, not its image
    long = next(text for kind, text, _ in found if text.startswith("xxx"))
    assert len(long) == notebook.MAX_OUTPUT_CHARS + 2 and long.endswith("\n…")
    assert ("text", "They come with the new and the full moon.", ("Tide tables", "Spring tides")) in found
    assert ("code", "print('```')", ("Tide tables", "Spring tides")) in found  # its own backticks do not end it
    assert ("code", "KeyError: 'height'", ("Tide tables", "Spring tides")) in found
    assert "not shown" not in doc.text and "iVBOR" not in doc.text and "\u001b" not in doc.text
    assert doc.text.startswith("# Tide tables\n\nLoad the readings first:\n\n```python\nimport pandas")
    assert "".join(shown_characters("Run `tides.max()` **now**", doc.path)) == "Run tides.max() now"  # shown as rendered


def test_a_version_3_notebook_reads_too(tmp_path: Path) -> None:
    old = {"nbformat": 3, "worksheets": [{"cells": [
        {"cell_type": "markdown", "source": ["Keeper's log"]},
        {"cell_type": "code", "input": ["1 + 1"], "outputs": [{"output_type": "pyout", "text": ["2"]}]}]}]}
    doc = read_document(write(tmp_path, old, "old.ipynb"))
    assert [doc.text[b.start : b.end] for b in doc.blocks] == ["Keeper's log", "1 + 1", "2"]


@pytest.mark.parametrize(("content", "reason"), [
    ("{not json", "its JSON cannot be read"),
    ({"cells": "none"}, "has no cells"),
    ("[" * 100_000 + "]" * 100_000, "its JSON cannot be read"),  # nested past the parser's stack
    ({"cells": [{"cell_type": "markdown", "source": "   "}]}, "no text found"),
])
def test_a_file_that_is_not_a_notebook_is_skipped_with_its_reason(tmp_path: Path, content: object, reason: str) -> None:
    with pytest.raises(SourceError, match=reason):
        read_document(write(tmp_path, content))


def test_a_large_notebook_is_read_in_a_child_process_the_same(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    content = {"cells": CELLS, "metadata": {"kernelspec": {"language": "python"}}, "nbformat": 4}
    in_process = read_document(write(tmp_path, content))
    monkeypatch.setattr(notebook, "IN_PROCESS_BYTES", 100)
    in_child = read_document(write(tmp_path, content, "copy.ipynb"))
    assert (in_child.text, in_child.blocks, in_child.title) == (in_process.text, in_process.blocks, in_process.title)


def test_a_code_fence_a_markdown_cell_leaves_open_ends_with_the_cell(tmp_path: Path) -> None:
    """Jupyter renders each cell alone: an unclosed fence is code to its cell's end, never the cells after it."""
    cells = [{"cell_type": "markdown", "source": "Install it first:\n```bash\npip install tides"},
             {"cell_type": "markdown", "source": "## Neap tides\n\nThey come with the half moon."},
             {"cell_type": "markdown", "source": "> ```\n> quoted code"},
             {"cell_type": "markdown", "source": "The quote's fence ends with the quote."}]
    doc = read_document(write(tmp_path, {"cells": cells, "nbformat": 4}))
    assert [(b.kind, doc.text[b.start : b.end]) for b in doc.blocks][:3] == [
        ("text", "Install it first:"), ("code", "pip install tides"), ("heading", "Neap tides")]
    assert ("text", "They come with the half moon.", ("Neap tides",)) in [(b.kind, doc.text[b.start : b.end], b.section)
                                                                         for b in doc.blocks]
    assert doc.blocks[-1].kind == "text" and doc.text[doc.blocks[-1].start : doc.blocks[-1].end] == (
        "The quote's fence ends with the quote.")

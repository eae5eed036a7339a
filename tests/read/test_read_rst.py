"""reStructuredText read as its Sphinx page shows it: headings as sections, literal blocks as code, lists as items,
Sphinx's roles as they are shown and its directives with their text; no file read but the one given."""

from __future__ import annotations

from pathlib import Path

import pytest

from qa import Index
from qa.answer.quotes import introduced
from qa.errors import SourceError
from qa.read import rst, sandbox
from qa.read.files import read_document

from helpers import FakeEmbedder
from helpers.units import quote_of

GUIDE = """\
Quickstart
==========

.. toctree::
   :maxdepth: 2

   install

Make sure that:

* Requests is :ref:`installed <install>`
* Requests is :ref:`up-to-date <updates>`

Installation
------------

To install Requests, simply run this simple command in your terminal of choice::

    $ python -m pip install requests

Use :func:`requests.get` or :meth:`~requests.Session.request`. Press :kbd:`Ctrl+C`, pick
:menuselection:`File --> Open` and see :doc:`the API <api>`; a project's own :foo:`bar` role shows its text.

.. note::

   Requests officially supports Python 3.9+.

.. option:: -v, --verbose

   Print every request sent.

.. function:: get(url, params=None, **kwargs)

   Sends a GET request.

   .. versionadded:: 2.0

.. versionchanged:: 2.1
   The timeout is now in seconds.

.. deprecated:: 3.0 Use :func:`fetch` instead.

.. autoclass:: requests.Session
   :members:

=========  =======
Parameter  Default
=========  =======
timeout    None
=========  =======

Footnotes too [#f1]_.

.. [#f1] Kept with their text.
"""


def read(tmp_path: Path, text: str, name: str = "quickstart.rst"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return read_document(path)


def blocks(doc) -> list[tuple[str, str, tuple[str, ...]]]:
    return [(b.kind, doc.text[b.start : b.end], b.section) for b in doc.blocks]


def test_a_sphinx_page_reads_with_its_sections_code_lists_and_directives(tmp_path: Path) -> None:
    doc = read(tmp_path, GUIDE)
    found = blocks(doc)
    assert doc.title == "Quickstart"
    assert ("item", "Requests is installed", ("Quickstart",)) in found  # a list item, the reference by its title
    assert ("text", "To install Requests, simply run this simple command in your terminal of choice:",
            ("Quickstart", "Installation")) in found  # "::" shown as ":"
    assert ("code", "$ python -m pip install requests", ("Quickstart", "Installation")) in found
    assert ("text", "Note: Requests officially supports Python 3.9+.", ("Quickstart", "Installation")) in found
    assert ("item", "Print every request sent.", ("Quickstart", "Installation", "-v, --verbose")) in found
    assert ("term", "get(url, params=None, **kwargs)", ("Quickstart", "Installation", "get(url, params=None, **kwargs)")) in found
    assert ("item", "Added in version 2.0.", ("Quickstart", "Installation", "get(url, params=None, **kwargs)")) in found
    assert ("table", "timeout | None", ("Quickstart", "Installation")) in found
    texts = [text for _, text, _ in found]
    assert "Changed in version 2.1: The timeout is now in seconds." in texts
    assert "Deprecated since version 3.0: Use fetch() instead." in texts
    assert ("Use requests.get() or request(). Press Ctrl+C, pick File ‣ Open and see the API; a project's own bar role "
            "shows its text.") in texts
    assert "[1] Kept with their text." in texts
    assert "install" not in texts and "requests.Session" not in doc.text  # toctree and autodoc show nothing
    assert ".." not in doc.text and "::" not in doc.text


def test_a_sentence_ending_in_a_double_colon_brings_its_literal_block(tmp_path: Path, fake_embedder: FakeEmbedder) -> None:
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "quickstart.rst").write_text(GUIDE, encoding="utf-8")
    index = Index.build([tmp_path / "docs"], tmp_path / "index", embedder=fake_embedder)
    intro = quote_of(index, "To install Requests, simply run this simple command in your terminal of choice:")
    block = introduced(index.corpus, intro, 600)
    assert block is not None and index.corpus.documents[0].text[block.start : block.end] == "$ python -m pip install requests"
    answer = index.answer("How do I install Requests?")
    assert all(index.corpus.documents[0].text[c.start : c.end] == c.quote for c in answer.citations)


def test_no_other_file_is_read_and_no_configuration_is_taken(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("the vault code is 4711\n", encoding="utf-8")
    monkeypatch.chdir(tmp_path)  # a docutils.conf beside it that would turn inclusion on
    (tmp_path / "docutils.conf").write_text("[general]\nfile_insertion_enabled: yes\nraw_enabled: yes\n", encoding="utf-8")
    hostile = (f"Page\n====\n\nBefore.\n\n.. include:: {secret}\n\n.. literalinclude:: {secret}\n\n"
               f".. raw:: html\n   :file: {secret}\n\n.. raw:: html\n\n   <p>raw 4711</p>\n\n"
               f".. csv-table:: Codes\n   :file: {secret}\n\n.. image:: {secret}\n   :scale: 50\n\nAfter.\n")
    doc = read(tmp_path, hostile, "hostile.rst")
    assert "4711" not in doc.text
    assert [text for _, text, _ in blocks(doc)] == ["Page", "Before.", "After."]


def test_a_broken_file_reads_what_it_can_and_a_file_nested_too_deeply_is_skipped_with_its_reason(tmp_path: Path) -> None:
    broken = "Title\n=====\n\n.. nosuchdirective:: x\n\n   gone\n\n+---+\n| a |\n\nA paragraph after.\n\n`unclosed\n"
    assert "A paragraph after." in read(tmp_path, broken, "broken.rst").text
    deep = "Title\n=====\n\n" + "".join(" " * depth + "a\n\n" for depth in range(300))  # block quotes in block quotes
    assert len(deep.encode()) <= rst.IN_PROCESS_BYTES  # read in this process: Python's stack is the limit
    with pytest.raises(SourceError, match="nested too deeply"):
        read(tmp_path, deep, "deep.rst")


def test_a_large_file_is_read_in_a_child_process_the_same(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    text = GUIDE + "".join(f"\nSection {n}\n{'-' * (8 + len(str(n)))}\n\nParagraph {n} of the guide.\n" for n in range(400))
    in_process = read(tmp_path, text, "large.rst")
    monkeypatch.setattr(rst, "IN_PROCESS_BYTES", 1000)
    calls: list[str] = []
    bounded = sandbox.run_bounded

    def recorded(target: str, *args: object, **kwargs: object) -> object:
        calls.append(target)
        return bounded(target, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(sandbox, "run_bounded", recorded)
    in_child = read(tmp_path, text, "large2.rst")
    assert calls == ["qa.read.rst:page_html"]
    assert (in_child.text, in_child.blocks, in_child.title) == (in_process.text, in_process.blocks, in_process.title)


def test_a_projects_own_roles_show_their_text(tmp_path: Path) -> None:
    text = ("Variables\n=========\n\nSet :variable:`CMAKE_AR` as :manual:`the manual <cmake(1)>` says, not "
            ":prop_tgt:`~Target.LINKER`; ``:setting:`x``` in code stays.\n")
    assert read(tmp_path, text, "vars.rst").text.endswith(
        "Set CMAKE_AR as the manual says, not LINKER; :setting:`x` in code stays.")


def test_a_projects_own_directive_shows_its_name_over_its_content(tmp_path: Path) -> None:
    """Without the project's extension docutils would drop the directive with everything in it. Its argument names
    what the content describes (as ``.. option::``'s does); one without content steers the extension: not shown."""
    text = ("Settings\n========\n\n.. lamp:setting:: brightness\n   :type: int\n\n   How bright the lamp shines; the "
            "default is 40 lumens.\n\n   .. lamp:example::\n\n      ``lamp --brightness 60``\n\n.. include:: ../secret.txt\n\n"
            ".. lamp:autodoc:: lamp.settings\n\nAfter all that, a closing paragraph.\n")
    (tmp_path / "secret.txt").write_text("never read", encoding="utf-8")
    (tmp_path / "docs").mkdir()
    doc = read(tmp_path / "docs", text, "settings.rst")
    assert [doc.text[b.start : b.end] for b in doc.blocks] == [
        "Settings", "brightness", "How bright the lamp shines; the default is 40 lumens.", "lamp --brightness 60",
        "After all that, a closing paragraph."]
    assert doc.section_at(doc.text.index("How bright")) == "Settings › brightness"

"""Sphinx's own reStructuredText markup, given the meaning it has on a Sphinx page, for docutils alone.

Sphinx documentation uses roles and directives that docutils does not know (``:func:`get```,
``.. versionadded:: 2.0``, ``.. option:: --verbose``); unknown, docutils would show a role as its source text and
drop a directive with everything in it. Sphinx itself is not used: its ``autodoc`` imports the project's code, which
reading a file must never do. So cross-references show what Sphinx shows for them, notes about versions become their
sentence, object descriptions become a term (the signature) over its description, and the directives that only steer
a build or pull text from code (``toctree``, ``index``, ``autoclass``) show nothing.
"""

from __future__ import annotations

import functools
import re
from typing import Any, ClassVar

from docutils import nodes
from docutils.parsers.rst import Directive, directives, roles
from docutils.utils import unescape

# Sphinx's cross-reference roles that show code (":func:`requests.get`" is "requests.get()"), with and without
# their domain; the others show words (":ref:`installed <install>`" is "installed").
_CODE_ROLES = ("func", "meth", "class", "attr", "exc", "obj", "data", "const", "mod", "type", "property", "member",
               "macro", "var", "struct", "union", "enum", "enumerator", "expr", "texpr", "concept", "dir", "role")
_DOMAINS = ("", "py:", "c:", "cpp:", "js:", "rst:")
_PLAIN_CODE_ROLES = ("option", "envvar", "file", "samp", "command", "program", "kbd", "makevar", "regexp", "mimetype",
                     "token", "confval", "std:option", "std:envvar")
_WORD_ROLES = ("ref", "doc", "any", "numref", "term", "download", "keyword", "std:ref", "std:doc", "std:term")
_AS_WRITTEN_ROLES = ("abbr", "dfn", "guilabel", "menuselection", "manpage", "mailheader", "newsgroup")
# Directives that steer a Sphinx build or pull text from code: nothing of them is on the page a reader reads here.
_HIDDEN = ("toctree", "index", "highlight", "tabularcolumns", "literalinclude", "module", "currentmodule",
           "py:module", "py:currentmodule", "c:namespace", "cpp:namespace", "program", "default-domain", "default-role",
           "sectionauthor", "moduleauthor", "codeauthor", "autosummary", "automodule", "autoclass", "autofunction",
           "automethod", "autoattribute", "autodata", "autoexception", "autoproperty", "autodecorator", "doctest",
           "testsetup", "testcleanup", "testcode", "testoutput", "plot", "graphviz", "inheritance-diagram",
           "todo", "todolist")  # a Sphinx page shows no to-do unless its build is told to
_LABELLED = {"versionadded": "Added in version", "versionchanged": "Changed in version",
             "deprecated": "Deprecated since version", "versionremoved": "Removed in version"}
_TITLED = {"seealso": "See also"}
_REGISTERED_ROLES = frozenset((*(domain + name for domain in _DOMAINS for name in _CODE_ROLES), *_PLAIN_CODE_ROLES,
                               *_WORD_ROLES, *_AS_WRITTEN_ROLES))
_KEPT = ("only", "hlist", "glossary", "centered", "tab", "tabs", "tab-set", "tab-item", "card", "dropdown")
# Object descriptions: a signature over its description, read as a definition list's term over its definition.
_PY_OBJECTS = ("function", "class", "method", "attribute", "data", "exception", "decorator", "property", "staticmethod",
               "classmethod", "decoratormethod", "type")
_C_OBJECTS = ("function", "member", "macro", "struct", "union", "enum", "enumerator", "type", "var", "class", "method",
              "data", "attribute", "alias", "concept")
_DESCRIBED = (*(domain + name for domain in ("", "py:") for name in _PY_OBJECTS),
              *(f"{domain}:{name}" for domain in ("c", "cpp", "js") for name in _C_OBJECTS),
              "describe", "object", "option", "cmdoption", "envvar", "confval", "rst:directive", "rst:role",
              "rst:directive:option", "std:option", "std:envvar")
_REGISTERED_DIRECTIVES = frozenset((*_HIDDEN, *_KEPT, *_LABELLED, *_TITLED, *_DESCRIBED))
_TITLED_TARGET = re.compile(r"(.*?)\s*<([^<>]*)>", re.S)
_ROLE_USE = re.compile(r"(?<![\w`]):([A-Za-z][\w.+:-]*):`")
_DIRECTIVE_USE = re.compile(r"^[ \t]*\.\.[ \t]+([A-Za-z][\w.+:-]*?)::", re.M)
MAX_FOUND_ROLES = 2_000  # the roles and directives of projects' own extensions made known in a process (docutils keeps them all)
_found: set[str] = set()
Role = tuple[list[Any], list[Any]]  # (nodes, messages)


def title_and_target(text: str) -> tuple[str, str]:
    """A cross-reference's title and target ("installed <install>"), or no title and the text as the target."""
    match = _TITLED_TARGET.fullmatch(text)
    return (match.group(1), match.group(2)) if match and match.group(1) else ("", text)


def shown(text: str) -> str:
    """What Sphinx shows for a cross-reference: its title, else its target, "~requests.models.Response" as
    "Response" and "!name" as "name"."""
    title, target = title_and_target(text)
    if title:
        return title
    target = target.lstrip("!")
    return target[1:].rsplit(".", 1)[-1] if target.startswith("~") else target


def code_role(called: bool) -> Any:
    """A role shown as code; ``called``: a function's, shown with "()" as Sphinx does when it has no title."""
    def role(name: str, rawtext: str, text: str, lineno: int, inliner: Any, options: Any = None, content: Any = None) -> Role:
        text = unescape(text)
        label = shown(text)
        if called and not title_and_target(text)[0] and not label.endswith(")"):
            label += "()"
        return [nodes.literal(rawtext, label)], []
    return role


def word_role(name: str, rawtext: str, text: str, lineno: int, inliner: Any, options: Any = None, content: Any = None) -> Role:
    return [nodes.inline(rawtext, shown(unescape(text)))], []


def as_written(name: str, rawtext: str, text: str, lineno: int, inliner: Any, options: Any = None, content: Any = None) -> Role:
    """A label as Sphinx shows it: "File --> Open" as "File ‣ Open", "&Cancel" (a keyboard accelerator) as "Cancel"."""
    return [nodes.inline(rawtext, unescape(text).replace("-->", "‣").replace("&", ""))], []


class _AnyOption(dict[str, Any]):
    """Every option accepted and kept as written (``:noindex:``, ``:synopsis:``...): none changes what is shown."""

    def __missing__(self, key: str) -> Any:
        return directives.unchanged

    def __bool__(self) -> bool:  # docutils parses options only where a directive has any
        return True


class Hidden(Directive):
    """A directive that steers a build or pulls text from code: nothing of it is shown."""

    optional_arguments = 1
    final_argument_whitespace = True
    option_spec = _AnyOption()
    has_content = True

    def run(self) -> list[nodes.Node]:
        return []


class Kept(Hidden):
    """A directive whose content is shown as it is (``only``, ``hlist``, ``glossary``, tabs); ``centered``'s argument
    is its paragraph."""

    def run(self) -> list[nodes.Node]:
        node = nodes.container()
        if self.arguments:
            node += self.paragraph(self.arguments[0])
        self.state.nested_parse(self.content, self.content_offset, node)
        return [node]

    def paragraph(self, text: str) -> nodes.paragraph:
        inline, _ = self.state.inline_text(text, self.lineno)
        return nodes.paragraph(text, "", *inline)


class Labelled(Kept):
    """A note about a version: "Added in version 2.0: the text." as one sentence, as Sphinx shows it."""

    label: ClassVar[str] = ""

    def run(self) -> list[nodes.Node]:
        version, _, rest = " ".join((self.arguments[0] if self.arguments else "").split()).partition(" ")
        node = nodes.container()
        self.state.nested_parse(self.content, self.content_offset, node)
        lead = f"{self.label} {version}".rstrip()
        if rest.strip():
            node.insert(0, self.paragraph(f"{lead}: {rest.strip()}"))
        elif len(node) and isinstance(node[0], nodes.paragraph):
            node[0].insert(0, nodes.Text(f"{lead}: "))
        else:
            node.insert(0, nodes.paragraph("", f"{lead}."))
        return [node]


class Titled(Kept):
    """A note under its title ("See also"), the argument its first paragraph."""

    title: ClassVar[str] = ""

    def run(self) -> list[nodes.Node]:
        node = nodes.admonition()
        node += nodes.title("", self.title)
        if self.arguments:
            node += self.paragraph(self.arguments[0])
        self.state.nested_parse(self.content, self.content_offset, node)
        return [node]


class Described(Kept):
    """An object's description: its signatures (one a line) as a term, over the description."""

    def run(self) -> list[nodes.Node]:
        signatures = [line.strip() for line in (self.arguments[0] if self.arguments else "").splitlines() if line.strip()]
        definition = nodes.definition()
        self.state.nested_parse(self.content, self.content_offset, definition)
        term = nodes.term("", "", nodes.literal("", ", ".join(signatures)))
        return [nodes.definition_list("", nodes.definition_list_item("", term, definition))]


class Unknown(Described):
    """A project's own directive: with content, its argument (a name: ``.. setting:: DEBUG``) a term over the content,
    as an object's description; without content it steers the extension that knows it (``.. automodapi:: pkg``), and
    nothing of it is shown. Options are never shown."""

    def run(self) -> list[nodes.Node]:
        if not self.content:
            return []
        if self.arguments:
            return super().run()
        node = nodes.container()
        self.state.nested_parse(self.content, self.content_offset, node)
        return [node]


def register_found(text: str) -> None:
    """The roles and directives a document uses that neither docutils nor Sphinx defines, from a project's own
    extension: a role (CMake's ``:variable:`CMAKE_AR```, Django's ``:setting:``) shown as code, a cross-reference by
    its title, not as the markup around it; a directive's content shown, not dropped with it."""
    from docutils.parsers.rst.languages import en

    register()
    for name in sorted({use.lower() for use in _ROLE_USE.findall(text)}):
        if name in _found or name in en.roles or name in en.roles.values() or name in _REGISTERED_ROLES:
            continue
        if len(_found) >= MAX_FOUND_ROLES:
            return
        roles.register_local_role(name, code_role(False))
        _found.add(name)
    for name in sorted({use.lower() for use in _DIRECTIVE_USE.findall(text)}):
        key = f"..{name}"
        if key in _found or name in en.directives or name in _REGISTERED_DIRECTIVES:
            continue
        if len(_found) >= MAX_FOUND_ROLES:
            return
        directives.register_directive(name, Unknown)
        _found.add(key)


@functools.cache
def register() -> None:
    """Make Sphinx's markup known to docutils (once a process: docutils keeps roles and directives globally)."""
    for domain in _DOMAINS:
        for name in _CODE_ROLES:
            roles.register_local_role(domain + name, code_role(name in ("func", "meth")))
    for name in _PLAIN_CODE_ROLES:
        roles.register_local_role(name, code_role(False))
    for name in _WORD_ROLES:
        roles.register_local_role(name, word_role)
    for name in _AS_WRITTEN_ROLES:
        roles.register_local_role(name, as_written)
    for name in _HIDDEN:
        directives.register_directive(name, Hidden)
    for name in _KEPT:
        directives.register_directive(name, Kept)
    for name, label in _LABELLED.items():
        directives.register_directive(name, type(f"Labelled_{name}", (Labelled,), {"label": label}))
    for name, title in _TITLED.items():
        directives.register_directive(name, type(f"Titled_{name}", (Titled,), {"title": title}))
    for name in _DESCRIBED:
        directives.register_directive(name, Described)

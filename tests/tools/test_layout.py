"""The layout rules of the README's "How it works": a question flows downhill through the stage folders, the app
uses only public names, no module passes 300 lines, and the benchmarks and the training neither loop nor patch
``sys.path``. Read from the source with ``ast`` (nothing is imported)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from helpers import REPO

# Each stage may import from its own floor and the ones below it, never from one above.
FLOORS = {"qa.errors": 0, "qa.settings": 0, "qa.types": 0, "qa.read": 1, "qa.index": 2, "qa.retrieval": 3, "qa.answer": 4,
          "qa.api": 5, "qa.evaluate": 5, "qa.display": 5, "qa.cli": 6, "qa": 6, "qa.app": 7}
PUBLIC = {"qa", "qa.errors", "qa.settings", "qa.types", "qa.display"}  # what the app and the CLI may import
MAX_LINES = 300
PRODUCT_AND_TOOLS = ["qa", "bench", "training", "evaldata"]
SMALL = [*PRODUCT_AND_TOOLS, "tests"]  # every module stays under MAX_LINES


def modules(*folders: str) -> list[Path]:
    return sorted(p for folder in folders for p in (REPO / folder).rglob("*.py"))


def name_of(path: Path, root: Path = REPO) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imported(path: Path, root: Path = REPO) -> list[tuple[str, list[str]]]:
    """Every module ``path`` imports (at the top or inside a function), absolute, with the names taken from it."""
    package = name_of(path, root) if path.name == "__init__.py" else name_of(path, root).rpartition(".")[0]
    found: list[tuple[str, list[str]]] = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found += [(alias.name, []) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = package.split(".")[: len(package.split(".")) - node.level + 1] if node.level else []
            target = ".".join([*base, *([node.module] if node.module else [])])
            found.append((target, [alias.name for alias in node.names]))
    return found


def floor(module: str) -> int | None:
    """The floor of a qa module (its stage folder, or the top-level module itself); None outside qa."""
    while module:
        if module in FLOORS:
            return FLOORS[module]
        module = module.rpartition(".")[0]
    return None


def test_floors_cover_every_module_of_the_package() -> None:
    assert all(floor(name_of(path)) is not None for path in modules("qa"))


def upward(path: Path, root: Path = REPO) -> list[str]:
    """The modules ``path`` imports from a floor above its own."""
    own = floor(name_of(path, root))
    assert own is not None
    return [m for m, _ in imported(path, root) if (f := floor(m)) is not None and f > own]


def private(path: Path, root: Path = REPO) -> list[tuple[str, str]]:
    """The private names (``_x``) ``path`` imports from qa."""
    return [(m, n) for m, names in imported(path, root) if floor(m) is not None for n in names if n.startswith("_")]


@pytest.mark.parametrize("path", modules("qa"), ids=name_of)
def test_a_module_imports_only_from_its_floor_or_below(path: Path) -> None:
    assert not upward(path), f"{name_of(path)} imports from above its floor: {upward(path)}"


@pytest.mark.parametrize("path", [*modules("qa/app"), REPO / "app.py", REPO / "qa" / "cli.py"], ids=name_of)
def test_the_app_and_the_cli_use_only_public_names(path: Path) -> None:
    own = name_of(path)
    reached = [m for m, _ in imported(path) if floor(m) is not None and m not in PUBLIC and not m.startswith("qa.app")
               and m.rpartition(".")[0] != own.rpartition(".")[0]]
    assert not reached, f"{own} reaches into {reached}"


@pytest.mark.parametrize("path", [*modules(*SMALL), REPO / "app.py"], ids=name_of)
def test_modules_stay_small(path: Path) -> None:
    lines = len(path.read_text(encoding="utf-8").splitlines())
    assert lines <= MAX_LINES, f"{name_of(path)} has {lines} lines; split it by what its parts do"


@pytest.mark.parametrize("path", [*modules(*PRODUCT_AND_TOOLS), REPO / "app.py"], ids=name_of)
def test_modules_import_no_private_names(path: Path) -> None:
    assert not private(path), f"{name_of(path)} imports private names {private(path)}"


@pytest.mark.parametrize("path", [p for p in modules(*SMALL) if p.name != "test_layout.py"], ids=name_of)
def test_no_sys_path_patching_and_no_loop_between_bench_and_training(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    assert "sys.path" not in text, f"{name_of(path)} patches sys.path; run it from the repository root with python -m"
    if name_of(path).startswith(("training", "evaldata")):
        assert not [m for m, _ in imported(path) if m == "bench" or m.startswith("bench.")], f"{name_of(path)} imports bench"
    if name_of(path).startswith("evaldata"):
        assert not [m for m, _ in imported(path) if m.startswith("training")], f"{name_of(path)} imports training"


# The stores' own modules; the rest of qa/index/stores/ (base, manifest, factory) is what they share.
STORE_MODULES = {"folder": {"folder", "folder_files"},
                 "postgres": {"postgres", "postgres_corpus", "postgres_search", "postgres_view", "postgres_write"}}
STORES_PACKAGE = "qa.index.stores"


def import_graph(root: Path = REPO) -> dict[str, set[str]]:
    """The qa modules each qa module imports (``from package import module`` counts as importing the module)."""
    paths = modules_in(root / "qa")
    names = {name_of(path, root) for path in paths}
    graph = {}
    for path in paths:
        edges: set[str] = set()
        for module, taken in imported(path, root):
            edges |= ({f"{module}.{name}" for name in taken} & names) or ({module} & names)
        graph[name_of(path, root)] = edges - {name_of(path, root)}
    return graph


def modules_in(folder: Path) -> list[Path]:
    return sorted(folder.rglob("*.py"))


def circles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Import circles (each as the modules around it), found by a depth-first walk."""
    found, done = [], set()

    def walk(module: str, trail: list[str]) -> None:
        for target in sorted(graph.get(module, ())):
            if target in trail:
                found.append([*trail[trail.index(target):], target])
            elif target not in done:
                walk(target, [*trail, target])
        done.add(module)

    for module in sorted(graph):
        if module not in done:
            walk(module, [module])
    return found


def store_of(module: str) -> str | None:
    leaf = module.rpartition(".")[2]
    inside = module.rpartition(".")[0] == STORES_PACKAGE
    return next((store for store, names in STORE_MODULES.items() if inside and leaf in names), None)


def test_no_import_circles_in_the_package() -> None:
    assert circles(import_graph()) == []


def test_no_store_imports_another_and_nothing_outside_the_stores_knows_which_it_talks_to() -> None:
    graph = import_graph()
    assert {store_of(f"{STORES_PACKAGE}.{leaf}") for names in STORE_MODULES.values() for leaf in names} == set(STORE_MODULES)
    for module, targets in graph.items():
        for target in targets:
            store = store_of(target)
            if store is None or store == store_of(module):
                continue
            assert module == f"{STORES_PACKAGE}.factory", f"{module} imports {target}, a module of the {store} store"


EDGES = {"qa.cli"}  # with app.py: where environment variables are read


def reads_environment(path: Path) -> bool:
    """Whether ``path`` touches ``os.environ`` or calls ``os.getenv`` / ``os.putenv``."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return any((isinstance(node, ast.Attribute) and node.attr in {"environ", "getenv", "putenv", "unsetenv"})
               or (isinstance(node, ast.alias) and node.name in {"environ", "getenv"}) for node in ast.walk(tree))


@pytest.mark.parametrize("path", [p for p in modules("qa") if name_of(p) not in EDGES], ids=name_of)
def test_no_environment_variable_is_read_below_the_command_line_and_the_app(path: Path) -> None:
    assert not reads_environment(path), f"{name_of(path)} reads the environment; read it in qa/cli.py or app.py"


def test_the_layout_checks_catch_what_they_look_for(tmp_path: Path) -> None:
    """The checks themselves: a made-up module that breaks the rules is caught, and one that keeps them is not."""
    (tmp_path / "qa" / "read").mkdir(parents=True)
    bad, good = tmp_path / "qa" / "read" / "bad.py", tmp_path / "qa" / "read" / "good.py"
    bad.write_text("from ..answer.score import Candidate\n\ndef f():\n    from qa.index.build import _plan\n", encoding="utf-8")
    good.write_text("from ..errors import SourceError\nfrom .blocks import Block\n", encoding="utf-8")
    assert [m for m, _ in imported(bad, tmp_path)] == ["qa.answer.score", "qa.index.build"]
    assert upward(bad, tmp_path) == ["qa.answer.score", "qa.index.build"]  # floors 4 and 2 above read's 1
    assert private(bad, tmp_path) == [("qa.index.build", "_plan")]
    assert [m for m, _ in imported(good, tmp_path)] == ["qa.errors", "qa.read.blocks"]
    assert upward(good, tmp_path) == [] and private(good, tmp_path) == []
    assert circles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c", "a"]]
    assert circles({"a": {"b"}, "b": set(), "c": {"a", "b"}}) == []
    assert store_of("qa.index.stores.postgres_corpus") == "postgres" and store_of("qa.index.stores.base") is None
    env = tmp_path / "env.py"
    for text, reads in (("import os\nx = os.environ.get('A')\n", True), ("from os import getenv\n", True),
                        ("import os\nx = os.path.join('a')\n", False)):
        env.write_text(text, encoding="utf-8")
        assert reads_environment(env) == reads, text

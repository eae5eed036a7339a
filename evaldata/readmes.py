"""The README development set: six installed packages' READMEs, which the benchmarks measure (``bench/docs.py``) and
the documentation pairs keep out of their rule-made questions (``training/docpairs.py``)."""

from __future__ import annotations

from pathlib import Path

README_PACKAGES = ("bm25s", "orjson", "pgvector", "rich", "threadpoolctl", "typer")  # installed with qa's dependencies


def package_readmes(folder: Path) -> dict[str, str]:
    """The README of each of ``README_PACKAGES`` as installed here (its PyPI description: Markdown with commands, code
    blocks and lists, none written for this project) written to ``folder/<name>-README.md``; their versions."""
    from importlib import metadata

    versions = {}
    for name in README_PACKAGES:
        meta = metadata.metadata(name)
        (folder / f"{name}-README.md").write_text(str(meta.json.get("description", "")), encoding="utf-8")
        versions[name] = meta["Version"]
    return versions

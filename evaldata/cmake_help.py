"""The reStructuredText set: CMake's command reference (``Help/command`` of Debian's and Ubuntu's cmake-data package:
134 pages written for Sphinx, with CMake's own roles and directives), with ``bench/rst_questions.jsonl`` (18
answerable questions, 2 not). The questions were written on 2026-12-08 before the system was asked them and the gold
answers after, from the pages; nothing was tuned on it. Read in place, never copied into the repository (BSD-3-Clause);
where CMake's help is missing, the set is skipped."""

from __future__ import annotations

from pathlib import Path

SHARE = Path("/usr/share")


def cmake_commands(scratch: Path) -> Path | None:
    """The newest ``cmake-*/Help/command`` folder of this system's shared data, or None (``scratch``: unused, as
    the pages are read where they are)."""
    found = sorted(folder for folder in SHARE.glob("cmake-*/Help/command") if folder.is_dir())
    return found[-1] if found else None

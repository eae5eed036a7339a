"""The library's file operations: safe upload names, listing a folder's sources, emptying a folder, and a second
name for a file kept aside. Plain file-system work with no index and no state (``library.py`` keeps the state)."""

from __future__ import annotations

import os
import re
import shutil
from dataclasses import dataclass
from pathlib import Path

from .. import SUPPORTED_SUFFIXES, iter_source_files
from ..errors import SourceError

MAX_NAME_CHARS = 120
_UNSAFE = re.compile(r"[^\w.\- ()]+")


@dataclass(frozen=True)
class SourceFile:
    """One file of the library."""

    name: str  # file name, as shown to the user and in citations
    path: str  # absolute path (what the index records)
    kind: str  # "seed" (a file in seeds/) or "upload" (a copy under data/uploads/)
    size: int  # bytes
    relative: str  # path inside its library folder (seeds/ or data/uploads/): what the API shows



def upload_name(name: str) -> str:
    """A safe file name for an upload: no folders, no hidden files, only plain characters."""
    base = Path(name.replace("\\", "/")).name
    stem, suffix = os.path.splitext(base)
    if not suffix and stem.startswith(".") and stem[stem.rindex(".") :].lower() in SUPPORTED_SUFFIXES:  # ".txt", "..md"
        raise SourceError(
            f"{base!r} is only a file type, with no name before it. Rename the file (for example notes{stem[stem.rindex('.'):]}) "
            "and upload it again."
        )
    stem = _UNSAFE.sub("_", stem).strip(" ._")[: MAX_NAME_CHARS - len(suffix)]
    suffix = _UNSAFE.sub("", suffix).lower()
    if not stem:
        raise SourceError(f"{base or name!r} is not a usable file name. Rename the file and upload it again.")
    return stem + suffix


def listed_sources(folder: Path, kind: str) -> list[SourceFile]:
    """Supported, non-hidden files under ``folder``, sorted by path.

    A file may be a symbolic link to one kept elsewhere: its ``path`` is where the link
    points (what the index records), its ``relative`` name is the link's place in ``folder``.
    """
    if not folder.is_dir():
        return []
    root = folder.resolve()
    found = []
    for path in iter_source_files([root]):  # the files a build reads there, folders linked to included
        relative = path.relative_to(root)
        if path.suffix.lower() in SUPPORTED_SUFFIXES:
            try:
                if path.is_file():
                    found.append(SourceFile(path.name, str(path.resolve()), kind, path.stat().st_size, relative.as_posix()))
            except (OSError, RuntimeError):  # removed meanwhile, or a link loop: not a source
                continue
    return found


def empty_folder(folder: Path) -> None:
    """Delete what is in ``folder`` (files and folders), never following a link out of it."""
    if not folder.is_dir() or folder.is_symlink():
        return
    for path in folder.iterdir():
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path, ignore_errors=True)
        else:
            path.unlink(missing_ok=True)


def keep_aside(target: Path, backup: Path) -> None:
    """A second name for the file at ``target`` (a hard link, or a copy where links are not supported).

    A backup left by a crash is the last upload that was indexed: it is kept, not overwritten.
    """
    if backup.exists():
        return
    try:
        os.link(target, backup)
    except OSError:
        shutil.copyfile(target, backup)

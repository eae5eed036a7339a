"""The set of sources the app indexes: the files in ``seeds/`` plus uploads under ``data/uploads/``.

- Uploads are checked (type, size, name) and copied into ``data/uploads/``; nothing is stored
  anywhere else. Uploading a file with the name of an earlier upload replaces it.
- Removing an upload deletes its stored copy.
- Removing a seed never deletes the user's file: its path (relative to ``seeds/``) is written
  to ``data/excluded.txt`` and it is left out of the index. Delete that line (or the file)
  to bring it back.

This module only lists, copies and deletes files; ``qa.Index.build`` reads and indexes them.
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

from qa import SUPPORTED_SUFFIXES, SourceError

MAX_UPLOAD_BYTES = 20 * 2**20
MAX_NAME_CHARS = 120
UPLOADS = "uploads"
EXCLUDED = "excluded.txt"
_UNSAFE = re.compile(r"[^\w.\- ()]+")


@dataclass(frozen=True)
class SourceFile:
    """One file of the library."""

    name: str  # file name, as shown to the user and in citations
    path: str  # absolute path (what the index records)
    kind: str  # "seed" (a file in seeds/) or "upload" (a copy under data/uploads/)
    size: int  # bytes


@dataclass(frozen=True)
class Library:
    """Seeds in ``seeds``, uploads and the seed exclusion list in ``data``."""

    seeds: Path = Path("seeds")
    data: Path = Path("data")
    max_upload_bytes: int = MAX_UPLOAD_BYTES

    @property
    def uploads(self) -> Path:
        return self.data / UPLOADS

    @property
    def excluded_file(self) -> Path:
        return self.data / EXCLUDED

    # ----- listing ---------------------------------------------------------------

    def sources(self) -> list[SourceFile]:
        """Every source to index: seeds not excluded, then uploads; each group sorted by name."""
        excluded = self.excluded()
        seeds = [p for p in _files(self.seeds) if _relative(p, self.seeds) not in excluded]
        return [_source(p, "seed") for p in seeds] + [_source(p, "upload") for p in _files(self.uploads)]

    def paths(self) -> list[str]:
        """The absolute paths of ``sources()``, for ``Index.build``."""
        return [source.path for source in self.sources()]

    def excluded(self) -> set[str]:
        """Seed paths (relative to the seeds folder) left out of the index."""
        if not self.excluded_file.is_file():
            return set()
        lines = self.excluded_file.read_text(encoding="utf-8").splitlines()
        return {line.strip() for line in lines if line.strip()}

    def find(self, path: str | Path) -> SourceFile:
        """The source at ``path``, or a SourceError when the library has no such source."""
        wanted = str(Path(path).resolve())
        for source in self.sources():
            if source.path == wanted:
                return source
        raise SourceError(f"{Path(path).name} is not in the library. Refresh the list and try again.")

    # ----- changing --------------------------------------------------------------

    def check_upload(self, name: str, size: int) -> str:
        """The name an upload is stored under, or a SourceError saying what is wrong with it."""
        safe = upload_name(name)
        if Path(safe).suffix.lower() not in SUPPORTED_SUFFIXES:
            kinds = ", ".join(sorted(SUPPORTED_SUFFIXES))
            raise SourceError(f"{safe}: unsupported file type; upload one of {kinds}.")
        if size == 0:
            raise SourceError(f"{safe} is empty.")
        if size > self.max_upload_bytes:
            raise SourceError(
                f"{safe} is {size / 2**20:.1f} MiB; uploads are limited to {self.max_upload_bytes / 2**20:.0f} MiB."
            )
        if any(s.kind == "seed" and s.name == safe for s in self.sources()):
            raise SourceError(f"A seed file is already called {safe}. Rename your file and upload it again.")
        return safe

    def add(self, file: str | Path, name: str | None = None) -> SourceFile:
        """Copy an uploaded ``file`` into the uploads folder as ``name`` (default: its own name)."""
        file = Path(file)
        try:
            size = file.stat().st_size
        except OSError as error:
            raise SourceError(f"Cannot read the uploaded file {file.name}: {error.strerror or error}.") from error
        target = self.uploads / self.check_upload(name or file.name, size)
        self.uploads.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=self.uploads, prefix=".upload-")
        os.close(handle)
        try:
            shutil.copyfile(file, temporary)
            os.replace(temporary, target)
        except OSError as error:
            Path(temporary).unlink(missing_ok=True)
            raise SourceError(f"Cannot store {target.name}: {error.strerror or error}.") from error
        return _source(target, "upload")

    def remove(self, path: str | Path) -> SourceFile:
        """Take a source out of the library: delete an upload, exclude a seed. The last one stays."""
        source = self.find(path)
        if len(self.sources()) == 1:
            raise SourceError(f"{source.name} is the only source left. Upload another file before removing it.")
        if source.kind == "upload":
            Path(source.path).unlink(missing_ok=True)
        else:
            self.data.mkdir(parents=True, exist_ok=True)
            excluded = sorted(self.excluded() | {_relative(Path(source.path), self.seeds)})
            self.excluded_file.write_text("".join(f"{line}\n" for line in excluded), encoding="utf-8")
        return source


def upload_name(name: str) -> str:
    """A safe file name for an upload: no folders, no hidden files, only plain characters."""
    base = Path(name.replace("\\", "/")).name
    stem, suffix = os.path.splitext(base)
    stem = _UNSAFE.sub("_", stem).strip(" ._")[: MAX_NAME_CHARS - len(suffix)]
    suffix = _UNSAFE.sub("", suffix).lower()
    if not stem:
        raise SourceError(f"{base or name!r} is not a usable file name. Rename the file and upload it again.")
    return stem + suffix


def _files(folder: Path) -> list[Path]:
    """Supported, non-hidden files under ``folder`` (resolved), sorted by path."""
    if not folder.is_dir():
        return []
    root = folder.resolve()
    found = (p for p in root.rglob("*") if p.is_file() and p.suffix.lower() in SUPPORTED_SUFFIXES)
    return sorted(p for p in found if not any(part.startswith(".") for part in p.relative_to(root).parts))


def _relative(path: Path, folder: Path) -> str:
    return Path(path).resolve().relative_to(folder.resolve()).as_posix()


def _source(path: Path, kind: str) -> SourceFile:
    return SourceFile(path.name, str(path.resolve()), kind, path.stat().st_size)

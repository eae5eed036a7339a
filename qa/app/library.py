"""The set of sources the app indexes: the files in ``seeds/`` plus uploads under ``data/uploads/``.

- Uploads are checked (type, size, name, readable text) and copied into ``data/uploads/``; nothing
  is stored anywhere else. Uploading a file with the name of an earlier upload replaces it, but
  only once the new one is indexed: until then the earlier one is kept aside (``stage``,
  then ``commit`` or ``rollback``), and ``recover`` puts it back after a crash.
- Removing an upload deletes its stored copy.
- Removing a seed never deletes the user's file: its path (relative to ``seeds/``) is written
  to ``data/excluded.txt`` and it is left out of the index. Delete that line (or the file)
  to bring it back.

This module only lists, copies and deletes files; ``qa.Index.build`` reads and indexes them.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

from .. import SUPPORTED_SUFFIXES, ReadSettings, check_source
from ..errors import SourceError
from .folders import SourceFile, empty_folder, keep_aside, listed_sources, upload_name

log = logging.getLogger("qa.app")

MAX_UPLOAD_BYTES = 20 * 2**20
UPLOADS = "uploads"
INCOMING = "tmp"
EXCLUDED = "excluded.txt"
EXAMPLES = ".examples.json"  # in the seeds folder (hidden: never indexed): {"a seed's path in it": ["an example question", ...]}
STAGING = ".upload-"  # an upload being copied and checked (hidden: never listed or indexed)
PREVIOUS = ".previous-"  # the earlier upload of a name, kept aside until the new one is indexed
NEW = ".new-"  # marks an upload of a new name until it is indexed: after a crash, the upload is taken out again


@dataclass(frozen=True)
class Staged:
    """An upload in place under its name, with the file it replaced kept aside (None: the name was free)."""

    source: SourceFile
    previous: Path | None
    marker: Path | None = None  # the name was new: this file says so until commit or rollback


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
    def folders(self) -> list[Path]:
        """What the library speaks for in a shared index: documents indexed from elsewhere (``qa index --add``
        workers) stay when the library changes."""
        return [self.seeds, self.uploads]

    @property
    def incoming(self) -> Path:
        """Where the web server puts uploads before they are checked (app.py points GRADIO_TEMP_DIR here)."""
        return self.data / INCOMING

    @property
    def excluded_file(self) -> Path:
        return self.data / EXCLUDED

    # ----- listing ---------------------------------------------------------------

    def sources(self) -> list[SourceFile]:
        """Every source to index: seeds not excluded, then uploads; each group sorted by name."""
        excluded = self.excluded()
        seeds = [source for source in listed_sources(self.seeds, "seed") if source.relative not in excluded]
        return seeds + listed_sources(self.uploads, "upload")

    def paths(self) -> list[str]:
        """The absolute paths of ``sources()``, for ``Index.build``."""
        return [source.path for source in self.sources()]

    def relative_paths(self) -> dict[str, str]:
        """Each source's absolute path (what the index records) -> its path inside its library folder."""
        return {source.path: source.relative for source in self.sources()}

    def excluded(self) -> set[str]:
        """Seed paths (relative to the seeds folder) left out of the index."""
        if not self.excluded_file.is_file():
            return set()
        lines = self.excluded_file.read_text(encoding="utf-8").splitlines()
        return {line.strip() for line in lines if line.strip()}

    def examples(self) -> list[str]:
        """Example questions of the seeds now in the library (``seeds/.examples.json``; none when it is absent or bad)."""
        file = self.seeds / EXAMPLES
        try:
            listed = json.loads(file.read_text(encoding="utf-8")) if file.is_file() else {}
        except (OSError, UnicodeDecodeError, ValueError) as error:
            log.warning("ignoring %s: %s", file.name, error)
            return []
        present = {source.relative for source in self.sources() if source.kind == "seed"}
        if not isinstance(listed, dict):
            return []
        return [q for seed, questions in listed.items() if seed in present and isinstance(questions, list)
                for q in questions if isinstance(q, str) and q.strip()]

    def removed_seeds(self) -> list[SourceFile]:
        """Seeds taken out of the index by ``remove`` (their files untouched), which ``restore`` brings back."""
        excluded = self.excluded()
        return [source for source in listed_sources(self.seeds, "seed") if source.relative in excluded]

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
        staged = self.stage(file, name)
        self.commit(staged)
        return staged.source

    def stage(self, file: str | Path, name: str | None = None, budget: ReadSettings | None = None) -> Staged:
        """Put an upload in place as ``name``, keeping the earlier upload of that name aside until
        ``commit`` (drop it) or ``rollback`` (put it back): an upload never destroys what was there.

        The copy is checked first (type, size, name, and that its text can be read), so a
        file that cannot be indexed (within ``budget``) is refused before anything is replaced.
        """
        file = Path(file)
        try:
            size = file.stat().st_size
        except OSError as error:
            raise SourceError(f"Cannot read the uploaded file {file.name}: {error.strerror or error}.") from error
        target = self.uploads / self.check_upload(name or file.name, size)
        self.uploads.mkdir(parents=True, exist_ok=True)
        handle, copy = tempfile.mkstemp(dir=self.uploads, prefix=STAGING, suffix="-" + target.name)
        os.close(handle)
        backup, marker = self.uploads / (PREVIOUS + target.name), self.uploads / (NEW + target.name)
        try:
            shutil.copyfile(file, copy)
            check_source(copy, budget)
            if target.exists():
                keep_aside(target, backup)
            elif not backup.exists():
                marker.touch()
            os.replace(copy, target)
        except SourceError as error:
            raise SourceError(f"{target.name}: {error}") from error
        except OSError as error:
            raise SourceError(f"Cannot store {target.name}: {error.strerror or error}.") from error
        finally:
            Path(copy).unlink(missing_ok=True)
        return Staged(self._source(target), backup if backup.exists() else None, marker if marker.exists() else None)

    def commit(self, staged: Staged) -> None:
        """Keep a staged upload: the earlier file of that name is dropped."""
        if staged.previous is not None:
            staged.previous.unlink(missing_ok=True)
        if staged.marker is not None:
            staged.marker.unlink(missing_ok=True)

    def rollback(self, staged: Staged) -> None:
        """Undo a staged upload: the earlier file of that name is back, or the name is free again."""
        if staged.previous is not None:
            os.replace(staged.previous, staged.source.path)
        else:
            Path(staged.source.path).unlink(missing_ok=True)
        if staged.marker is not None:
            staged.marker.unlink(missing_ok=True)

    def recover(self) -> list[str]:
        """After a crash mid-upload, undo the whole upload: put back the files kept aside, take out the uploads of
        new names, delete staging copies and the web server's temporary copies. Says what it did, a line per file."""
        empty_folder(self.incoming)
        if not self.uploads.is_dir():
            return []
        done = []
        for path in sorted(self.uploads.iterdir()):
            if path.name.startswith(PREVIOUS) and path.is_file():
                os.replace(path, self.uploads / path.name[len(PREVIOUS) :])
                done.append(f"an upload of {path.name[len(PREVIOUS):]} was cut short; the earlier file of that name is back")
            elif path.name.startswith(NEW) and path.is_file():
                (self.uploads / path.name[len(NEW) :]).unlink(missing_ok=True)
                path.unlink()
                done.append(f"an upload of {path.name[len(NEW):]} was cut short; it is not in the library")
            elif path.name.startswith(STAGING) and path.is_file():
                path.unlink(missing_ok=True)
        return done

    def _source(self, target: Path) -> SourceFile:
        return SourceFile(target.name, str(target.resolve()), "upload", target.stat().st_size, target.name)

    def remove(self, path: str | Path) -> SourceFile:
        """Take a source out of the library: delete an upload, exclude a seed. The last one stays."""
        source = self.find(path)
        if len(self.sources()) == 1:
            raise SourceError(f"{source.name} is the only source left. Upload another file before removing it.")
        if source.kind == "upload":
            Path(source.path).unlink(missing_ok=True)
        else:
            self._exclude(self.excluded() | {source.relative})
        return source

    def restore(self, relative: str) -> SourceFile:
        """Bring back a removed seed (``relative``: its path inside the seeds folder)."""
        seed = next((s for s in self.removed_seeds() if s.relative == relative), None)
        if seed is None:
            raise SourceError(f"{relative} is not a removed seed. Refresh the list and try again.")
        self._exclude(self.excluded() - {relative})
        return seed

    def _exclude(self, relatives: set[str]) -> None:
        self.data.mkdir(parents=True, exist_ok=True)
        self.excluded_file.write_text("".join(f"{line}\n" for line in sorted(relatives)), encoding="utf-8")

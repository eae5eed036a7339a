"""What every store records about an index, and the checks and messages all stores share.

A stored index is used only with the embedding model and backend that made its vectors and the chunk
settings that cut its passages: ``Manifest`` is that record, ``check`` compares a stored one with what
this program uses. Each store adds its own format version (its files or tables) and keeps the manifest
as JSON with these field names, so indexes written before this module existed still load.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ...errors import IndexLockedError, IndexMismatchError, rebuild_hint
from ...settings import Settings
from .. import embedding as embed
from ..embedding import Embedder

LOCK_WAIT_SECONDS = 2.0  # how long a second writer waits for the first before it is told to try again later
# how long a database build that adds its own files waits for the lock: the build that makes an empty database's
# tables holds it alone for its whole first embedding, and workers started beside it wait for that, not fail
ADDING_WAIT_SECONDS = 1800.0


@dataclass(frozen=True)
class Manifest:
    """The vectors' maker and the chunk settings an index was built with, and its vectors' size."""

    model: str
    backend: str
    settings: dict[str, Any] = field(hash=False)
    dim: int | None = None  # None: not known yet (no vectors made, no model loaded)
    store: str = ""  # the vector search kept beside it (FaissSearch.kind, PgVectorSearch.kind)

    def identity(self) -> dict[str, Any]:
        """The fields a stored index must match to be used."""
        return {"model": self.model, "backend": self.backend, "settings": self.settings}

    def fields(self) -> dict[str, Any]:
        """The manifest as stored (a store adds its format and what it alone keeps)."""
        return {**self.identity(), "dim": self.dim, "store": self.store}


def expected(settings: Settings, embedder: Embedder | None) -> Manifest:
    """What this program would build: the embedder's name and backend (or the configured ones), its settings.

    An index is only queried by the same model and backend: int8 ONNX and torch vectors are close (cosine >= 0.99)
    but not equal, so a backend change rebuilds the index rather than mixing the two (bench/results/RESULTS.md)."""
    if embedder is None:
        return Manifest(model_name(settings), settings.backend, settings.manifest_fields())
    return Manifest(embedder.name, embedder.backend, settings.manifest_fields(), embedder.dim)


def model_name(settings: Settings) -> str:
    """The name the manifest records for the configured model: its folder's."""
    return embed.model_name(settings.model_path)


def check(found: Mapping[str, Any], wanted: Manifest, format_version: int, where: str) -> None:
    """An IndexMismatchError naming the first field of a stored manifest that differs from what this program uses."""
    for key, value in {"format": format_version, **wanted.identity()}.items():
        if found.get(key) != value:
            raise IndexMismatchError(f"The index in {where} was built with {key}={found.get(key)!r}, "
                                     f"but this program uses {value!r}. " + rebuild_hint(where))
    if wanted.dim is not None and found.get("dim") != wanted.dim:
        raise IndexMismatchError(f"The index in {where} holds {found.get('dim')}-dimensional vectors, "
                                 f"the model makes {wanted.dim}. " + rebuild_hint(where))


def locked(where: str) -> IndexLockedError:
    """The error a second writer gets once it has waited ``LOCK_WAIT_SECONDS``."""
    return IndexLockedError(f"Another process is writing the index in {where}. Wait for it to finish, then try again.")


def warn_rebuilding(error: Exception) -> None:
    """Say (as a warning to the caller of ``Index.build``) that a foreign or damaged index is built again whole."""
    warnings.warn(f"rebuilding the whole index: {error}", stacklevel=6)

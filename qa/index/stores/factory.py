"""Which store keeps an index: a PostgreSQL database for a ``postgresql://`` URL, else a folder.

The one place that tells the stores apart; a third store would be one module and one line here.
"""

from __future__ import annotations

from .base import IndexStore
from .folder_files import index_path
from .postgres_search import is_database_url


def open_store(index: object) -> IndexStore:
    """The store for a location: a database for a ``postgresql://`` URL, else a folder (an ArgumentError when
    ``index`` is neither)."""
    if isinstance(index, str) and is_database_url(index):
        from .postgres import DatabaseStore  # psycopg is imported only for a database

        return DatabaseStore(index)
    from .folder import FolderStore

    return FolderStore(index_path(index))

"""Which store keeps an index: a PostgreSQL database for a ``postgresql://`` URL, else a folder.

The one place that tells the stores apart; a third store would be one module and one line here.
"""

from __future__ import annotations

from .base import IndexStorage
from .folder_files import index_path
from .postgres_server import is_database_url


def open_storage(index: object) -> IndexStorage:
    """The store for a location: a database for a ``postgresql://`` URL, else a folder (an ArgumentError when
    ``index`` is neither)."""
    if isinstance(index, str) and is_database_url(index):
        from .postgres import DatabaseStorage  # psycopg is imported only for a database

        return DatabaseStorage(index)
    from .folder import FolderStorage

    return FolderStorage(index_path(index))

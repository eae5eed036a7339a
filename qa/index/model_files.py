"""Model files made from the shipped ones on this machine, once, and kept in a cache folder of the user's own.

``Settings.cache_dir`` (QA_CACHE_DIR) when set, else ~/.cache/qa, else (a home that cannot be written to: a service
account) a folder of this user's in the temp folder. A folder that belongs to another user is never read: a shared
temp folder another user made could hold any model.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from pathlib import Path

from ..errors import ModelError


def made_once(name: str, cache_dir: str, make: Callable[[Path], bool]) -> Path | None:
    """The file ``name`` in the cache, made by ``make(path)`` when it is not there yet (None when ``make`` returns False:
    nothing to make). ``make`` must write the file whole or not at all (a temporary file, then ``os.replace``): a
    concurrent maker or reader sees a whole file or none."""
    places = [Path(cache_dir or Path.home() / ".cache" / "qa"),
              Path(tempfile.gettempdir()) / f"qa-cache-{os.getuid() if hasattr(os, 'getuid') else 0}"]
    folders = [f for f in places if _ours(f)]
    for folder in folders:
        if (folder / name).is_file():
            return folder / name
    for folder in folders:
        try:
            folder.mkdir(parents=True, exist_ok=True)
            if os.access(folder, os.W_OK) and _ours(folder):  # again: another user may have made it meanwhile
                return folder / name if make(folder / name) else None
        except OSError:
            continue
    raise ModelError(f"Cannot write the model file {name} to {' or '.join(map(str, places))}: set QA_CACHE_DIR to a "
                     "writable folder of yours, or use QA_BACKEND=onnx.")


def _ours(folder: Path) -> bool:
    """True unless ``folder`` exists and belongs to another user."""
    try:
        return not hasattr(os, "getuid") or folder.stat().st_uid == os.getuid()
    except FileNotFoundError:
        return True

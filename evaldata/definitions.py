"""The definition-list development set: "Users and Groups in the Debian System" (base-passwd's
``users-and-groups.html``, DocBook HTML whose entries are a definition list: a user or group as the term, what it is
for as its definition), with ``bench/dl_dev_questions.jsonl`` (12 answerable, 3 not), for choosing how definitions are
read (a term heads its definitions: ``qa/read/html.py``, ``qa/answer/reader.py``). Read in place from a Debian or
Ubuntu system's ``/usr/share/doc``, never copied into the repository (it is GPL-2); where it is missing, the set is
skipped."""

from __future__ import annotations

import shutil
from pathlib import Path

PAGE = Path("/usr/share/doc/base-passwd/users-and-groups.html")


def users_and_groups(folder: Path, page: Path = PAGE) -> Path | None:
    """``folder`` holding ``users-and-groups.html`` copied from this system's documentation, or None."""
    if not page.is_file():
        return None
    folder.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(page, folder / page.name)
    return folder

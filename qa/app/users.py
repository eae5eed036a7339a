"""Who may use a shared app: users with scrypt-hashed passwords in a file, their roles, and sessions that expire.

The file (``DATA/users.json`` unless ``--users``/``QA_USERS`` names another) holds one record per user:
``{"name": ..., "role": "reader" | "editor", "scrypt": "<salt hex>$<hash hex>"}``; it never holds a password.
Readers may ask; editors may also add, remove and bring back documents. ``python app.py --add-user NAME`` writes
it (file mode 0600). Gradio's own login page and cookie do the rest (``launch(auth=users.check)``).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import secrets
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import QAError

ROLES = ("reader", "editor")
USERS_FILE = "users.json"
SESSION_SECONDS = 12 * 3600  # a login lasts a working day; then the page asks for the password again
# scrypt at n=2**14, r=8: about 16 MiB and 40 ms a check here, so guessing is slow and logins stay quick
SCRYPT = {"n": 2**14, "r": 8, "p": 1, "maxmem": 64 * 2**20}


class LoginError(QAError):
    """A users file that cannot be used, or a user that cannot be added."""


@dataclass(frozen=True)
class User:
    name: str
    role: str  # one of ROLES
    scrypt: str  # "<salt hex>$<hash hex>" of the password


def hashed(password: str, salt: bytes | None = None) -> str:
    salt = salt if salt is not None else secrets.token_bytes(16)
    return f"{salt.hex()}${hashlib.scrypt(password.encode(), salt=salt, **SCRYPT).hex()}"


class Users:
    """The users of one app, read once at start."""

    def __init__(self, users: dict[str, User]) -> None:
        self.users = users
        self._dummy = hashed(secrets.token_hex(8))  # checked for unknown names too: no timing tells which names exist

    @classmethod
    def load(cls, path: Path) -> Users:
        """The users in ``path`` (none when it does not exist)."""
        if not path.exists():
            return cls({})
        try:
            records = json.loads(path.read_text(encoding="utf-8"))
            users = {r["name"]: User(str(r["name"]), str(r["role"]), str(r["scrypt"])) for r in records}
        except (OSError, ValueError, KeyError, TypeError) as error:
            raise LoginError(f"cannot read the users file {path} ({error}); fix it, or move it away and add users again "
                             f"with: python app.py --add-user NAME") from error
        wrong = sorted(u.name for u in users.values() if u.role not in ROLES)
        if wrong:
            raise LoginError(f"{path}: unknown role for {', '.join(wrong)}; a role is one of {', '.join(ROLES)}")
        return cls(users)

    def __bool__(self) -> bool:
        return bool(self.users)

    def check(self, name: str, password: str) -> bool:
        """Whether ``password`` is ``name``'s (Gradio's ``auth`` callable)."""
        user = self.users.get(name)
        salt_hex, digest = (user.scrypt if user else self._dummy).split("$", 1)
        candidate = hashed(password, bytes.fromhex(salt_hex)).split("$", 1)[1]
        return hmac.compare_digest(candidate, digest) and user is not None

    def role(self, name: str | None) -> str | None:
        user = self.users.get(name or "")
        return user.role if user else None


def add_user(path: Path, name: str, role: str, password: str) -> None:
    """Add ``name`` (or give them a new password and role) in the users file ``path``, written whole and private."""
    if not name.strip() or name != name.strip():
        raise LoginError("a user name needs at least one character and no spaces around it")
    if role not in ROLES:
        raise LoginError(f"unknown role {role!r}; a role is one of {', '.join(ROLES)}")
    if len(password) < 8:
        raise LoginError("the password needs at least 8 characters")
    users = dict(Users.load(path).users)
    users[name] = User(name, role, hashed(password))
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_suffix(".tmp")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
        json.dump([vars(u) for u in users.values()], handle, indent=1)
    os.replace(temporary, path)


class ExpiringTokens(dict[str, Any]):
    """Gradio's table of login cookies (token -> user name) whose entries expire ``seconds`` after login.

    Gradio keeps a login for as long as the server runs; it reads the table with ``get``, ``in`` and ``[]``."""

    def __init__(self, seconds: float = SESSION_SECONDS) -> None:
        super().__init__()
        self.seconds = seconds
        self.since: dict[str, float] = {}
        self.lock = threading.Lock()

    def __setitem__(self, token: str, name: Any) -> None:
        with self.lock:
            self.since[token] = time.monotonic()
            super().__setitem__(token, name)

    def _live(self, token: object) -> bool:
        if not isinstance(token, str):
            return False
        with self.lock:
            born = self.since.get(token)
            if born is not None and time.monotonic() - born > self.seconds:
                del self.since[token]
                super().pop(token, None)
            return super().__contains__(token)

    def __delitem__(self, token: str) -> None:  # Gradio's logout
        with self.lock:
            self.since.pop(token, None)
            super().__delitem__(token)

    def get(self, token: object, default: Any = None) -> Any:
        return super().get(token, default) if isinstance(token, str) and self._live(token) else default

    def __contains__(self, token: object) -> bool:
        return self._live(token)

    def __getitem__(self, token: str) -> Any:
        if not self._live(token):
            raise KeyError(token)
        return super().__getitem__(token)

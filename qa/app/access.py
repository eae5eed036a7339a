"""Who may do what in a shared app: editors change the library, everyone logged in may ask, and no client more than
its share of requests a minute (per user, or per address without a login)."""

from __future__ import annotations

import threading
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any

from ..errors import QAError
from .users import Users

ASKS_PER_MINUTE = 30  # questions (page or /ask, /retrieve): a person types far fewer; a script is slowed down
CHANGES_PER_MINUTE = 10  # uploads, removals and seeds brought back
CLIENTS_KEPT = 10_000  # the oldest client's window is dropped beyond this many: the table stays bounded


class TooManyRequests(QAError):
    """A client went over its share; the message says how long to wait."""


class NotAllowed(QAError):
    """A logged-in reader tried what only an editor may do."""


class RateLimit:
    """A sliding one-minute window of request times per client."""

    def __init__(self, per_minute: int, doing: str) -> None:
        self.per_minute = per_minute
        self.doing = doing
        self.windows: dict[str, deque[float]] = {}
        self.lock = threading.Lock()

    def take(self, client: str) -> None:
        """Count one request of ``client``, or raise TooManyRequests when it already made ``per_minute`` in a minute."""
        now = time.monotonic()
        with self.lock:
            window = self.windows.pop(client, None) or deque()
            while window and now - window[0] >= 60:
                window.popleft()
            self.windows[client] = window  # re-inserted: the table's order is the clients' last use
            if len(window) >= self.per_minute:
                wait = 60 - (now - window[0])
                raise TooManyRequests(f"too many {self.doing} from you ({self.per_minute} a minute); "
                                      f"try again in {max(1, round(wait))} s")
            window.append(now)
            while len(self.windows) > CLIENTS_KEPT:
                del self.windows[next(iter(self.windows))]


def client_of(request: Any) -> str:
    """Who made a Gradio request: the logged-in user, else the address it came from."""
    return client_key(getattr(request, "username", None), getattr(getattr(request, "client", None), "host", None))


def client_key(name: str | None, host: str | None) -> str:
    """The key a client's share is counted under: its user name, else its address."""
    return f"user:{name}" if name else f"address:{host or 'unknown'}"


@dataclass
class Access:
    """The app's users (none: no login, as on this machine only) and each client's share of requests (``limited``:
    a server others reach; on this machine with no login every request comes from one person, unlimited)."""

    users: Users = field(default_factory=lambda: Users({}))
    limited: bool = False
    asks: RateLimit = field(default_factory=lambda: RateLimit(ASKS_PER_MINUTE, "questions"))
    changes: RateLimit = field(default_factory=lambda: RateLimit(CHANGES_PER_MINUTE, "library changes"))

    def ask(self, request: Any) -> None:
        """Let a question through, or raise TooManyRequests."""
        if self.limited:
            self.asks.take(client_of(request))

    def change(self, request: Any) -> None:
        """Let an upload, removal or restore through: editors only when there is a login, within their share."""
        name = getattr(request, "username", None)
        if not self.is_editor(name):
            raise NotAllowed(f"{name or 'this user'} may ask but not change the library; whoever runs the app can make "
                             f"you an editor (python app.py --add-user {name or 'NAME'} --role editor)")
        if self.limited:
            self.changes.take(client_of(request))

    def may_change(self, request: Any) -> bool:
        return self.is_editor(getattr(request, "username", None))

    def is_editor(self, name: str | None) -> bool:
        """Whether ``name`` may change the library: anyone when there is no login."""
        return not self.users or self.users.role(name) == "editor"

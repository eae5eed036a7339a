"""The app's door: an ASGI middleware in front of every Gradio route that bounds what one request may bring.

Gradio reads a request's whole body before any handler of ours sees it (and keeps a session's last inputs), so a
cap applied in a handler comes too late. Here, before Gradio: a request body over ``MAX_BODY`` is refused (413),
and Gradio's raw upload route, which takes any file, takes files only from an editor (when there is a login),
at most ``UPLOADS_PER_MINUTE`` requests a minute per client and ``UPLOAD_FILES`` files' worth of bytes each.
"""

from __future__ import annotations

import json
from typing import Any

from starlette.requests import HTTPConnection

from .access import Access, RateLimit, TooManyRequests, client_key

MAX_BODY = 2 * 2**20  # a question, its conversation and the page's state (the page keeps its last turns only)
UPLOADS_PER_MINUTE = 20  # raw upload requests per client (each upload event needs one)
UPLOAD_FILES = 10  # an upload request's body may hold this many files of the largest size allowed
Scope = dict[str, Any]


class Refused(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


class Guard:
    """Refuses oversized requests and uploads that this client may not make, before Gradio reads them."""

    def __init__(self, app: Any, access: Access, max_upload_bytes: int) -> None:
        self.app = app
        self.access = access
        self.max_upload = max_upload_bytes * UPLOAD_FILES
        self.uploads = RateLimit(UPLOADS_PER_MINUTE, "uploads")

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        if scope["type"] != "http" or scope["method"] in ("GET", "HEAD", "OPTIONS"):
            await self.app(scope, receive, send)
            return
        upload = scope["path"].rstrip("/").endswith("/upload")
        limit = self.max_upload if upload else MAX_BODY
        try:
            length = int(dict(scope["headers"]).get(b"content-length", b"0") or 0)
            if length > limit:
                raise Refused(413, f"the request is {length:,} bytes; at most {limit:,} are taken")
            if upload:
                self.may_upload(scope)
        except Refused as refusal:
            await reply(send, refusal.status, str(refusal))
            return
        except ValueError:
            await reply(send, 400, "the request's Content-Length is not a number")
            return
        await self.app(scope, capped(receive, limit), send)

    def may_upload(self, scope: Scope) -> None:
        name = user_of(scope)
        if self.access.users and name is None:
            raise Refused(401, "log in first")
        if not self.access.is_editor(name):
            raise Refused(403, f"{name} may ask but not add documents")
        try:
            if self.access.limited:
                self.uploads.take(client_key(name, (scope.get("client") or (None,))[0]))
        except TooManyRequests as error:
            raise Refused(429, str(error)) from error


def user_of(scope: Scope) -> str | None:
    """The logged-in user of a request, from Gradio's login cookie (None: not logged in)."""
    app = scope.get("app")
    tokens, cookie_id = getattr(app, "tokens", {}), getattr(app, "cookie_id", "")
    cookies = HTTPConnection(scope).cookies
    for key in (f"access-token-{cookie_id}", f"access-token-unsecure-{cookie_id}"):
        name = tokens.get(cookies.get(key)) if cookies.get(key) else None
        if name:
            return str(name)
    return None


def capped(receive: Any, limit: int) -> Any:
    """``receive`` that stops a body (sent in chunks, without a length) once it passes ``limit`` bytes."""
    seen = 0

    async def receive_capped() -> dict:
        nonlocal seen
        message = await receive()
        seen += len(message.get("body", b""))
        if seen > limit:
            return {"type": "http.disconnect"}
        return message

    return receive_capped


async def reply(send: Any, status: int, message: str) -> None:
    body = json.dumps({"error": message, "detail": message}).encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})

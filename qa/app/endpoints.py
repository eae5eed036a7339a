"""The app's two named endpoints for scripts, `/ask` and `/retrieve`: plain JSON data, clear errors, no server paths."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict
from pathlib import Path
from typing import Any

import gradio as gr

from .. import QAError
from .access import Access
from .service import Service

log = logging.getLogger("qa.app")
FAILED = "Something went wrong while answering. Please try again; the details are in the server log."


def api(service: Service, access: Access) -> None:
    """Named endpoints for scripts: `/ask` and `/retrieve` return plain JSON data.

    Every failure reaches the client as a message that says what was wrong (a ``gr.Error``),
    never Gradio's generic one; paths are shown inside their library folder, never as server paths.
    """

    def ask(question: str, history: list[list[str]] | None = None, request: gr.Request = None) -> dict:  # type: ignore[assignment]
        """Answer `question` with verbatim quotes. `history`: earlier [question, answer] pairs, for follow-ups."""
        with api_errors("answering"):
            access.ask(request)
            data = service.ask(question, history).to_dict()
            shown = service.library.relative_paths()
            return {**data, "citations": [client_safe(c, shown) for c in data["citations"]]}

    def retrieve(question: str, k: int = 5, request: gr.Request = None) -> list[dict]:  # type: ignore[assignment]
        """The `k` passages that best match `question`, best first."""
        with api_errors("retrieving"):
            access.ask(request)
            passages = service.retrieve(question, whole_number(k))
            shown = service.library.relative_paths()
            return [client_safe(asdict(passage), shown) for passage in passages]

    gr.api(ask, api_name="ask", concurrency_id="answer")
    gr.api(retrieve, api_name="retrieve", concurrency_id="answer")


@contextmanager
def api_errors(doing: str) -> Iterator[None]:
    """A QAError becomes its own message for the client; anything else is logged and gets FAILED."""
    try:
        yield
    except QAError as error:
        raise gr.Error(str(error)) from error
    except Exception as error:  # a bug; the client gets a message, the log the details
        log.exception("%s failed", doing)
        raise gr.Error(FAILED) from error


def whole_number(k: Any) -> Any:
    """JSON has one number type: 5.0 is 5. Anything else is passed on for ``retrieve`` to refuse clearly."""
    return int(k) if isinstance(k, float) and k.is_integer() else k


def client_safe(row: dict[str, Any], shown: dict[str, str]) -> dict[str, Any]:
    """The row with ``path`` (the server's absolute path) replaced by ``file_path``, the source's path inside
    its library folder (``path`` would make gradio_client download it as a file)."""
    data = {key: value for key, value in row.items() if key != "path"}
    return {**data, "file_path": shown.get(row["path"], Path(row["path"]).name)}

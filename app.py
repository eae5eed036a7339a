"""The browser chat: `python app.py` serves http://127.0.0.1:7860.

On start it builds the index from the library (seeds/ plus uploads under data/uploads/) when the
index is missing, stale or damaged; when it is up to date that takes a second and loads no model.
The app's index is its own, in data/index/ beside the uploads: `qa index` and the README's Python examples
write index/, so they never drop the uploads from it.
Options: --host/QA_HOST, --port/QA_PORT, --index/QA_INDEX (a folder) or --store/QA_STORE (a postgresql:// URL),
--seeds/QA_SEEDS, --data/QA_DATA, --users/QA_USERS (the users file, default DATA/users.json).

Login: with users in the users file the page asks for a name and password (readers ask; editors also change the
library). Served beyond this machine (--host other than 127.0.0.1/localhost) without users, the app refuses to
start unless --no-login says so. `python app.py --add-user NAME [--role editor]` adds a user (the password is read
from the terminal, or from standard input when it is not one).
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import threading
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from qa.app import Service
    from qa.app.access import Access

CONCURRENCY = 2  # questions answered at once (the machine has few cores)
QUEUE_SIZE = 32  # requests waiting beyond that are turned away with a "busy" message
# Gradio keeps every session's state (about 75 KB each, most of it its own copy of the page's config) until this many
# newer sessions push it out; each API call is a session of its own, so its default (10,000) let the soak's 30
# clients grow the app by 20% in 3 minutes. The least recently used go first; a page's conversation is also kept in
# its browser (gr.BrowserState).
SESSIONS = 500
LOOPBACK = ("127.0.0.1", "localhost", "::1")
APP_INDEX = "index"  # under the data folder: what `qa index` writes (./index) never replaces the app's index

log = logging.getLogger("qa.app")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    env = os.environ.get
    parser = argparse.ArgumentParser(description="Serve the qa chat in the browser.")
    parser.add_argument("--host", default=env("QA_HOST", "127.0.0.1"), help="address to listen on (default: 127.0.0.1, this machine only)")
    parser.add_argument("--port", type=int, default=int(env("QA_PORT", "7860")), help="port (default: 7860)")
    parser.add_argument("--index", "--store", dest="index", default=env("QA_STORE") or env("QA_INDEX"),
                        help="index folder, or a PostgreSQL URL shared by several app processes (default: DATA/index)")
    parser.add_argument("--seeds", default=env("QA_SEEDS", "seeds"), help="folder of seed documents (default: seeds)")
    parser.add_argument("--data", default=env("QA_DATA", "data"), help="folder for uploads and upload temp files (default: data)")
    parser.add_argument("--users", default=env("QA_USERS"), help="the users file (default: DATA/users.json)")
    parser.add_argument("--llm-url", default=env("QA_LLM_URL"), help="an OpenAI-compatible server that writes each answer in "
                        "words from its quotes, e.g. http://localhost:11434/v1 for Ollama (default: none, fully offline)")
    parser.add_argument("--llm-model", default=env("QA_LLM_MODEL"), help="the model that server should use")
    parser.add_argument("--no-login", action="store_true", help="serve beyond this machine with no login (anyone may change the library)")
    parser.add_argument("--add-user", metavar="NAME", help="add a user (or change their password and role) and exit")
    parser.add_argument("--role", choices=("reader", "editor"), default="reader", help="the added user's role (default: reader)")
    args = parser.parse_args(argv)
    if not args.index:  # the app's own index, beside its uploads
        args.index = str(Path(args.data) / APP_INDEX)
    args.users = Path(args.users) if args.users else Path(args.data) / "users.json"
    return args


def add_user(args: argparse.Namespace) -> int:
    """``--add-user``: the password from the terminal (asked twice) or from standard input."""
    import getpass

    from qa.app.users import add_user as write_user

    if sys.stdin.isatty():
        password = getpass.getpass(f"Password for {args.add_user}: ")
        if getpass.getpass("Again: ") != password:
            print("qa: error: the two passwords differ; nothing was changed", file=sys.stderr)
            return 1
    else:
        password = sys.stdin.readline().rstrip("\n")
    write_user(args.users, args.add_user, args.role, password)
    print(f"qa: {args.add_user} ({args.role}) can log in; users are kept in {args.users}")
    return 0


def login_needed(host: str, users: object, no_login: bool) -> str | None:
    """Why the app must not start (None: it may): served beyond this machine, with nobody to log in as."""
    if host in LOOPBACK or users or no_login:
        return None
    return (f"--host {host} lets anyone on the network ask, upload and remove documents; add a user first "
            f"(python app.py --add-user NAME --role editor), or start with --no-login to allow that")


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    configure_logging()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    from qa import QAError
    from qa.app import Library, Service
    from qa.app.access import Access
    from qa.app.users import Users
    from qa.settings import from_environment

    try:
        if args.add_user:
            return add_user(args)
        users = Users.load(args.users)
        access = Access(users, limited=bool(users) or args.host not in LOOPBACK)
    except QAError as error:
        print(f"qa: error: {error}", file=sys.stderr)
        return 1
    refusal = login_needed(args.host, access.users, args.no_login)
    if refusal:
        print(f"qa: error: {refusal}", file=sys.stderr)
        return 2
    if args.no_login and args.host not in LOOPBACK:
        log.warning("NO LOGIN: anyone who can reach %s:%d may ask, upload and remove documents", args.host, args.port)

    library = Library(Path(args.seeds), Path(args.data).resolve())
    # Before gradio is imported: uploads land under data/ only, and nothing is sent anywhere.
    os.environ["GRADIO_TEMP_DIR"] = str(library.incoming)
    os.environ["GRADIO_ANALYTICS_ENABLED"] = "False"

    try:
        settings = from_environment(os.environ)  # the model, reader and the LLM's key (QA_LLM_API_KEY) from the environment
        llm = replace(settings.llm, url=args.llm_url or settings.llm.url, model=args.llm_model or settings.llm.model)
        service = Service.start(library, args.index, replace(settings, llm=llm))
    except QAError as error:
        print(f"qa: error: {error}", file=sys.stderr)
        return 1
    rows = service.sources()
    log.info("%d sources, %d indexed passages in %s", len(rows), sum(r.passages for r in rows), service.shown_location())
    threading.Thread(target=service.warm_up, name="warm-up", daemon=True).start()
    log.info("login: %s", f"{len(access.users.users)} users in {args.users}" if access.users else "off")
    serve(service, args.host, args.port, access)
    return 0


def configure_logging() -> None:
    """Our own messages, and warnings from the libraries (bm25s sets its logger to DEBUG when imported)."""
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("qa: %(message)s"))
    handler.addFilter(lambda record: record.levelno >= logging.WARNING or record.name.startswith("qa"))
    logging.basicConfig(level=logging.WARNING, handlers=[handler])
    log.setLevel(logging.INFO)


def serve(service: Service, host: str, port: int, access: Access) -> None:
    """Build the page, start its queue (bounded) and serve it until interrupted."""
    from starlette.middleware import Middleware

    from qa.app.guard import Guard
    from qa.app.render import CSS
    from qa.app.users import ExpiringTokens
    from qa.app.webapp import CITE_CLICK_JS, build_app

    demo = build_app(service, access)
    demo.queue(default_concurrency_limit=CONCURRENCY, max_size=QUEUE_SIZE)
    demo.launch(
        server_name=host,
        server_port=port,
        css=CSS,
        head=CITE_CLICK_JS,
        ssr_mode=False,
        show_error=False,  # errors reach the page as chat messages, never as tracebacks
        max_file_size=service.library.max_upload_bytes,
        state_session_capacity=SESSIONS,
        footer_links=["api"],
        auth=access.users.check if access.users else None,
        auth_message="Log in with the name and password an editor gave you.",
        prevent_thread_lock=True,
        enable_monitoring=False,  # /monitoring and run history: nothing about other users' traffic for anyone
        run_history=False,
        app_kwargs={"middleware": [Middleware(Guard, access=access, max_upload_bytes=service.library.max_upload_bytes)]},
    )
    demo.server_app.tokens = ExpiringTokens()  # Gradio keeps a login until the server stops
    demo.block_thread()


if __name__ == "__main__":
    sys.exit(main())

"""A scripted OpenAI-compatible chat server: what the tests use in place of the user's own model server."""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class ScriptedServer:
    """An OpenAI-compatible chat server on a free local port; ``reply``, ``status`` and ``delay`` script it."""

    def __init__(self) -> None:
        self.reply, self.status, self.delay, self.body = "", 200, 0.0, b""
        self.requests: list[dict[str, Any]] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                request = json.loads(self.rfile.read(int(self.headers.get("Content-Length", "0"))))
                server.requests.append({"path": self.path, "body": request, "auth": self.headers.get("Authorization")})
                time.sleep(server.delay)
                message = {"choices": [{"message": {"role": "assistant", "content": server.reply}}]}
                payload = server.body or json.dumps(message).encode("utf-8")
                self.send_response(server.status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, *args: Any) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

"""A scripted OpenAI-compatible chat server: what the tests use in place of the user's own model server."""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class ScriptedServer:
    """An OpenAI-compatible chat server on a free local port; ``reply``, ``status`` and ``delay`` script it.

    A request that asks to stream gets server-sent events, one word each ``pace`` seconds, when ``streams`` is
    set (else the whole reply as JSON, as some servers do); ``cut_after`` words ends the connection mid-reply.
    """

    def __init__(self) -> None:
        self.reply, self.status, self.delay, self.body = "", 200, 0.0, b""
        self.streams, self.pace, self.cut_after = False, 0.0, -1
        self.requests: list[dict[str, Any]] = []
        self.sent_words = 0  # words of the last streamed reply that went out before it ended or the client left
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:
                request = json.loads(self.rfile.read(int(self.headers.get("Content-Length", "0"))))
                server.requests.append({"path": self.path, "body": request, "auth": self.headers.get("Authorization")})
                time.sleep(server.delay)
                if request.get("stream") and server.streams and server.status == 200:
                    self.stream()
                    return
                message = {"choices": [{"message": {"role": "assistant", "content": server.reply}}]}
                payload = server.body or json.dumps(message).encode("utf-8")
                self.send_response(server.status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def stream(self) -> None:
                self.send_response(200)
                self.send_header("Content-Type", "text/event-stream")
                self.send_header("Connection", "close")
                self.end_headers()
                server.sent_words = 0
                try:
                    for i, word in enumerate(server.reply.split(" ")):
                        if i == server.cut_after:
                            return  # the connection ends without [DONE]
                        chunk = {"choices": [{"delta": {"content": word if i == 0 else " " + word}}]}
                        self.wfile.write(f"data: {json.dumps(chunk)}\n\n".encode())
                        self.wfile.flush()
                        server.sent_words += 1
                        time.sleep(server.pace)
                    self.wfile.write(b"data: [DONE]\n\n")
                except OSError:
                    pass  # the client went away
                finally:
                    self.close_connection = True

            def log_message(self, *args: Any) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

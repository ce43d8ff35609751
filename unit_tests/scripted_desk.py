"""A tiny local HTTP server whose answers are scripted, for failures requests-mock cannot fake: a connection reset
by the peer, a server that stays silent."""

from __future__ import annotations

import json
import socket
import struct
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, List, Tuple, Union

# "reset": close the connection with a TCP RST after reading the request; "silence": say nothing for 30 s, then
# answer an empty object (a client without a read timeout gets that instead of the next answer); ("json", body):
# answer 200 with that JSON body.
Behaviour = Union[str, Tuple[str, Any]]


class ScriptedDesk:
    def __init__(self, *script: Behaviour) -> None:
        self.requests: List[Tuple[str, str]] = []  # (method, path) in arrival order
        self._script = list(script)
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        desk = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                desk._answer(self)

            do_POST = do_DELETE = do_GET

            def log_message(self, *args: Any) -> None:
                pass

            def finish(self) -> None:
                try:
                    super().finish()
                except OSError:
                    pass  # the connection was reset on purpose

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}/api/v1"

    def __enter__(self) -> "ScriptedDesk":
        self._thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self._stopping.set()
        self._server.shutdown()
        self._server.server_close()

    def _answer(self, handler: BaseHTTPRequestHandler) -> None:
        with self._lock:
            self.requests.append((handler.command, handler.path.split("?")[0]))
            behaviour = self._script.pop(0) if self._script else ("json", {})
        if behaviour == "reset":
            handler.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            handler.connection.close()
            handler.close_connection = True
        elif behaviour == "silence" and self._stopping.wait(30):
            handler.close_connection = True
        else:
            body = json.dumps({} if behaviour == "silence" else behaviour[1]).encode()
            handler.send_response(200)
            handler.send_header("Content-Type", "application/json")
            handler.send_header("Content-Length", str(len(body)))
            handler.end_headers()
            handler.wfile.write(body)

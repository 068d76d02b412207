"""A static file server on 127.0.0.1 with HTTP Range support that misbehaves on demand:
cut the connection midway, ignore ``Range``, or answer with a chosen status. For testing
downloads (``freehold pull``) without the internet::

    with FileServer({"m.gguf": data}, cut_after=1000) as server:
        fetch(server.url("m.gguf"), tmp_path)
    assert server.requests[1].range == "bytes=1000-"
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any

_RANGE = re.compile(r"^bytes=(\d+)-(\d*)$")


@dataclass(frozen=True)
class Served:
    """One request as the server saw it."""

    path: str
    range: str | None
    status: int
    body_bytes: int


class FileServer:
    """Serve ``files`` (name → bytes) at ``/NAME``; anything else is 404.

    ``cut_after``: send only this many body bytes of the next ``cuts`` responses, then close
    the connection. ``ignore_range``: answer 200 with the whole file even when asked for a
    range. ``status``: name → status to answer instead (e.g. 403), with an empty body.
    """

    def __init__(
        self,
        files: dict[str, bytes],
        *,
        cut_after: int | None = None,
        cuts: int = 1,
        ignore_range: bool = False,
        status: dict[str, int] | None = None,
    ) -> None:
        self.files = dict(files)
        self.cut_after = cut_after
        self.cuts_left = cuts if cut_after is not None else 0
        self.ignore_range = ignore_range
        self.status = dict(status or {})
        self.requests: list[Served] = []
        self._lock = threading.Lock()
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self._httpd.daemon_threads = True
        self._httpd.file_server = self  # type: ignore[attr-defined]
        self.port = int(self._httpd.server_address[1])
        self.base_url = f"http://127.0.0.1:{self.port}"
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    def url(self, name: str) -> str:
        return f"{self.base_url}/{name}"

    def start(self) -> FileServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(timeout=10)

    def __enter__(self) -> FileServer:
        return self.start()

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    def _take_cut(self) -> int | None:
        with self._lock:
            if self.cuts_left <= 0:
                return None
            self.cuts_left -= 1
            return self.cut_after

    def _record(self, served: Served) -> None:
        with self._lock:
            self.requests.append(served)


class _Handler(BaseHTTPRequestHandler):
    server_version = "freehold-test-files/1"

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: tests read ``FileServer.requests`` instead."""

    @property
    def owner(self) -> FileServer:
        return self.server.file_server  # type: ignore[attr-defined,no-any-return]

    def do_GET(self) -> None:
        name = self.path.split("?", 1)[0].lstrip("/")
        requested = self.headers.get("Range")
        if name in self.owner.status:
            self._answer(name, requested, self.owner.status[name], {}, b"")
            return
        data = self.owner.files.get(name)
        if data is None:
            self._answer(name, requested, 404, {}, b"not found\n")
            return
        self._serve(name, requested, data)

    def _serve(self, name: str, requested: str | None, data: bytes) -> None:
        match = _RANGE.match(requested or "")
        if match is None or self.owner.ignore_range:
            self._answer(name, requested, 200, {"Accept-Ranges": "bytes"}, data)
            return
        start = int(match.group(1))
        end = int(match.group(2)) if match.group(2) else len(data) - 1
        if start >= len(data):
            headers = {"Content-Range": f"bytes */{len(data)}"}
            self._answer(name, requested, 416, headers, b"")
            return
        end = min(end, len(data) - 1)
        headers = {"Content-Range": f"bytes {start}-{end}/{len(data)}", "Accept-Ranges": "bytes"}
        self._answer(name, requested, 206, headers, data[start : end + 1])

    def _answer(
        self, name: str, requested: str | None, status: int, headers: dict[str, str], body: bytes
    ) -> None:
        cut = self.owner._take_cut() if status in (200, 206) else None
        sent = body if cut is None else body[:cut]
        self.owner._record(Served(f"/{name}", requested, status, len(sent)))
        self.send_response(status)
        for key, value in headers.items():
            self.send_header(key, value)
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(sent)
        self.wfile.flush()
        self.close_connection = True

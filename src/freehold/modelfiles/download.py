"""Download one file over HTTP(S): resumable, retried, verified, and never half-written.

The bytes go to ``NAME.part`` next to the destination. An existing part is resumed with
``Range: bytes=N-`` (and hashed first, so the final SHA-256 covers the whole file); a server
that ignores the range and answers 200 makes the download restart cleanly; 416 on a part
that is already complete just finishes it. A connection cut mid-body is retried a few
times, resuming each time. Only when size and SHA-256 check out is the part renamed over
the final name (``os.replace``, atomic on one filesystem). On a mismatch the part is
deleted, so nothing is left behind.

Standard-library ``urllib`` on purpose: a CLI download is one sequential stream, so the
event loop aiohttp would need buys nothing, and urllib follows redirects (the Hugging Face
CDN hop) keeping the ``Range`` header, honours ``*_proxy`` variables and needs no extra.
"""

from __future__ import annotations

import contextlib
import hashlib
import http.client
import os
import re
import shutil
import socket
import ssl
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any
from urllib.parse import unquote, urlsplit

from freehold import __version__

ProgressCallback = Callable[[int, int | None], None]
"""Called as ``progress(bytes_done, total_bytes_or_None)`` while bytes arrive."""

CHUNK_BYTES = 1 << 20
_HEX64 = re.compile(r"^[0-9a-f]{64}$")
_RETRY_STATUSES = frozenset({408, 425, 429, 500, 502, 503, 504})


class DownloadError(Exception):
    """A download failed; ``str(exc)`` is one line meant for the user."""


class IntegrityError(DownloadError):
    """The bytes arrived but are not the expected ones (size or SHA-256)."""


class _Retryable(DownloadError):
    """A transient failure (cut connection, timeout, 5xx): resume and try again."""


class _Restart(Exception):
    """The server's answer does not continue the part: start again from byte 0."""


@dataclass(frozen=True)
class Downloaded:
    """The outcome of :func:`fetch`."""

    path: Path
    size_bytes: int
    sha256: str
    verified: bool
    """True when an expected SHA-256 was given and matched."""
    reused: bool = False
    """True when the file was already there (and matched), so nothing was downloaded."""


def download(
    url: str,
    dest_dir: str | os.PathLike[str],
    *,
    filename: str | None = None,
    sha256: str | None = None,
    expected_size: int | None = None,
    progress: ProgressCallback | None = None,
    timeout_s: float = 30.0,
) -> Path:
    """Download ``url`` into ``dest_dir`` and return the final path (see :func:`fetch`)."""
    return fetch(
        url,
        dest_dir,
        filename=filename,
        sha256=sha256,
        expected_size=expected_size,
        progress=progress,
        timeout_s=timeout_s,
    ).path


def fetch(
    url: str,
    dest_dir: str | os.PathLike[str],
    *,
    filename: str | None = None,
    sha256: str | None = None,
    expected_size: int | None = None,
    progress: ProgressCallback | None = None,
    timeout_s: float = 30.0,
    retries: int = 4,
    retry_delay_s: float = 1.0,
    overwrite: bool = False,
) -> Downloaded:
    """Download ``url`` to ``dest_dir/filename`` (default: the URL's last path segment).

    ``sha256`` and ``expected_size``, when given, are checked before the file gets its final
    name. ``timeout_s`` bounds connecting and each silence between reads. A cut connection
    is retried ``retries`` times (delays ``retry_delay_s``, doubling), resuming each time.
    An existing destination is reused (after checking it against ``sha256``) unless
    ``overwrite``. Raises :class:`DownloadError` (or :class:`IntegrityError`).
    """
    check_url(url)
    expected = normalize_sha256(sha256) if sha256 is not None else None
    directory = Path(dest_dir).expanduser()
    dest = directory / (filename or filename_from_url(url))
    check_filename(dest.name)
    if dest.is_dir():
        raise DownloadError(f"{dest} is a directory")
    if dest.exists() and not overwrite:
        return _reuse(dest, expected, expected_size)
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise DownloadError(f"cannot create {directory}: {exc.strerror or exc}") from None
    job = _Job(url, dest, expected_size, progress, timeout_s)
    job.run(retries, retry_delay_s)
    return job.finish(expected)


def check_url(url: str) -> None:
    """Refuse anything but an absolute http(s) URL."""
    parts = urlsplit(url)
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        raise DownloadError(f"refusing {url!r}: only http:// and https:// URLs can be pulled")


def filename_from_url(url: str) -> str:
    """The last path segment of ``url``, percent-decoded (query and fragment ignored)."""
    name = unquote(urlsplit(url).path.rstrip("/").rpartition("/")[2])
    if not name:
        raise DownloadError(f"cannot tell a file name from {url!r}; pass one explicitly")
    return name


def check_filename(name: str) -> None:
    """A plain file name: no directories, no dot-names, no ``.part`` suffix."""
    if not name or name.startswith(".") or name.endswith(".part") or set(name) & set("/\\\0"):
        raise DownloadError(f"refusing file name {name!r}")


def normalize_sha256(value: str) -> str:
    """Lower-case 64-hex SHA-256, or :class:`DownloadError`."""
    digest = value.strip().lower()
    if not _HEX64.match(digest):
        raise DownloadError(f"not a SHA-256 hex digest: {value!r} (need 64 hex characters)")
    return digest


def sha256_of(path: Path, digest: Any = None) -> str:
    """The SHA-256 of a file, read in chunks (fed into ``digest`` when given)."""
    digest = hashlib.sha256() if digest is None else digest
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(CHUNK_BYTES), b""):
            digest.update(block)
    return str(digest.hexdigest())


def _reuse(dest: Path, expected: str | None, expected_size: int | None) -> Downloaded:
    size = dest.stat().st_size
    actual = sha256_of(dest)
    if (expected is not None and actual != expected) or (
        expected_size is not None and size != expected_size
    ):
        raise DownloadError(
            f"{dest} already exists but is not the expected file "
            f"(sha256 {actual}, {size} bytes); use --force to download it again"
        )
    return Downloaded(dest, size, actual, verified=expected is not None, reused=True)


class _Job:
    """One download into ``dest.part``: its offset and running hash survive retries."""

    def __init__(
        self,
        url: str,
        dest: Path,
        expected_size: int | None,
        progress: ProgressCallback | None,
        timeout_s: float,
    ) -> None:
        self.url = url
        self.dest = dest
        self.part = dest.with_name(dest.name + ".part")
        self.expected_size = expected_size
        self.progress = progress
        self.timeout_s = timeout_s
        self.total: int | None = expected_size
        self.hasher = hashlib.sha256()
        self.offset = 0

    def run(self, retries: int, retry_delay_s: float) -> None:
        self._load_part()
        self._check_disk_space()
        delay = retry_delay_s
        for attempt in range(retries + 1):
            last = attempt == retries
            try:
                self._attempt()
                return
            except _Retryable as exc:
                if last:
                    raise DownloadError(
                        f"{exc} (gave up after {retries + 1} attempts; run again to resume)"
                    ) from None
                time.sleep(delay)
                delay *= 2
            except _Restart:
                self._reset()
                if last:
                    raise DownloadError(
                        f"{_host(self.url)} keeps answering with a range that does not "
                        "continue the download; try again with --force"
                    ) from None

    def finish(self, expected: str | None) -> Downloaded:
        size = self.part.stat().st_size
        if self.expected_size is not None and size != self.expected_size:
            self._discard()
            raise IntegrityError(
                f"size mismatch for {self.dest.name}: expected {self.expected_size} bytes, "
                f"got {size}; the download was deleted"
            )
        actual = self.hasher.hexdigest()
        if expected is not None and actual != expected:
            self._discard()
            raise IntegrityError(
                f"SHA-256 mismatch for {self.dest.name}: expected {expected}, got {actual}; "
                "the download was deleted"
            )
        os.replace(self.part, self.dest)
        return Downloaded(self.dest, size, actual, verified=expected is not None)

    # -- the part file ---------------------------------------------------------------------

    def _load_part(self) -> None:
        if not self.part.exists():
            return
        size = self.part.stat().st_size
        if self.expected_size is not None and size > self.expected_size:
            self._reset()
            return
        sha256_of(self.part, self.hasher)
        self.offset = size

    def _reset(self) -> None:
        self.part.unlink(missing_ok=True)
        self.hasher = hashlib.sha256()
        self.offset = 0

    def _discard(self) -> None:
        self.part.unlink(missing_ok=True)

    def _check_disk_space(self) -> None:
        if self.expected_size is None:
            return
        needed = self.expected_size - self.offset
        free = shutil.disk_usage(self.part.parent).free
        if needed > free:
            raise DownloadError(
                f"not enough disk space in {self.part.parent}: "
                f"need {needed} more bytes, {free} free"
            )

    # -- one HTTP exchange -----------------------------------------------------------------

    def _attempt(self) -> None:
        request = urllib.request.Request(
            self.url, headers={"User-Agent": f"freehold/{__version__}"}
        )
        if self.offset:
            request.add_header("Range", f"bytes={self.offset}-")
        try:
            response = urllib.request.urlopen(request, timeout=self.timeout_s)
        except urllib.error.HTTPError as exc:
            with contextlib.closing(exc):
                self._on_http_error(exc)
            return
        except (urllib.error.URLError, OSError, http.client.HTTPException) as exc:
            raise _connection_error(self.url, exc) from None
        with response:
            self._on_response(response)

    def _on_http_error(self, exc: urllib.error.HTTPError) -> None:
        if exc.code == 416 and self.offset:
            total = _content_range_total(exc.headers.get("Content-Range"))
            if total == self.offset:
                self._report()
                return
            raise _Restart
        raise _http_error(self.url, exc.code, exc.reason)

    def _on_response(self, response: http.client.HTTPResponse) -> None:
        length = _int_or_none(response.headers.get("Content-Length"))
        if response.status == 206:
            start, total = _content_range(response.headers.get("Content-Range"))
            if start != self.offset:
                raise _Restart
            self.total = total if total is not None else _plus(length, self.offset)
        else:
            if self.offset:
                # The server ignored the range and sends the whole file: start over.
                self._reset()
            self.total = length if length is not None else self.expected_size
        self._check_announced_size()
        try:
            with self.part.open("ab" if self.offset else "wb") as out:
                received = self._copy(response, out)
        except OSError as exc:  # writing, not reading: disk full, permissions, ...
            raise DownloadError(f"cannot write {self.part}: {_describe(exc)}") from None
        if length is not None and received < length:
            raise _Retryable(
                f"connection to {_host(self.url)} closed after {self.offset} of {self.total} bytes"
            )

    def _check_announced_size(self) -> None:
        known = self.expected_size is not None and self.total is not None
        if known and self.total != self.expected_size:
            self._discard()
            raise IntegrityError(
                f"size mismatch for {self.dest.name}: expected {self.expected_size} bytes, "
                f"the server announces {self.total}; nothing was kept"
            )

    def _copy(self, response: http.client.HTTPResponse, out: IO[bytes]) -> int:
        received = 0
        self._report()
        while True:
            try:
                block = response.read(CHUNK_BYTES)
            except (OSError, http.client.HTTPException) as exc:
                out.flush()
                raise _Retryable(
                    f"connection to {_host(self.url)} lost after {self.offset} bytes: "
                    f"{_describe(exc)}"
                ) from None
            if not block:
                return received
            out.write(block)
            self.hasher.update(block)
            self.offset += len(block)
            received += len(block)
            self._report()

    def _report(self) -> None:
        if self.progress is not None:
            self.progress(self.offset, self.total)


# -- error wording --------------------------------------------------------------------------


def _http_error(url: str, status: int, reason: str) -> DownloadError:
    hints = {
        401: "the server wants credentials (a gated or private file?)",
        403: "access denied (a gated or private file?)",
        404: "not found: check the name or URL",
    }
    message = f"HTTP {status} {reason or ''} from {url}".replace("  ", " ")
    if status in hints:
        message = f"{message}: {hints[status]}"
    if status in _RETRY_STATUSES:
        return _Retryable(message)
    return DownloadError(message)


def _connection_error(url: str, exc: BaseException) -> DownloadError:
    reason = exc.reason if isinstance(exc, urllib.error.URLError) else exc
    host = _host(url)
    if isinstance(reason, socket.gaierror):
        return DownloadError(f"cannot resolve host {host!r} (DNS lookup failed; offline?)")
    if isinstance(reason, ConnectionRefusedError):
        return DownloadError(f"cannot connect to {host}: connection refused")
    if isinstance(reason, ssl.SSLError):
        return DownloadError(f"TLS error talking to {host}: {_describe(reason)}")
    if isinstance(reason, TimeoutError | ConnectionError | http.client.HTTPException):
        return _Retryable(f"connection to {host} failed: {_describe(reason)}")
    return DownloadError(f"cannot download from {host}: {_describe(reason)}")


def _describe(exc: object) -> str:
    if isinstance(exc, TimeoutError):
        return "timed out"
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror
    text = str(exc)
    return text or type(exc).__name__


def _host(url: str) -> str:
    parts = urlsplit(url)
    return parts.netloc or url


# -- header parsing -------------------------------------------------------------------------

_CONTENT_RANGE = re.compile(r"^\s*bytes\s+(\d+)-(\d+)/(\d+|\*)\s*$", re.IGNORECASE)
_UNSATISFIED_RANGE = re.compile(r"^\s*bytes\s+\*/(\d+)\s*$", re.IGNORECASE)


def _content_range(value: str | None) -> tuple[int | None, int | None]:
    """``bytes START-END/TOTAL`` → (START, TOTAL); unknown parts are None."""
    match = _CONTENT_RANGE.match(value or "")
    if not match:
        return None, None
    total = match.group(3)
    return int(match.group(1)), None if total == "*" else int(total)


def _content_range_total(value: str | None) -> int | None:
    """``bytes */TOTAL`` (the 416 form) → TOTAL."""
    match = _UNSATISFIED_RANGE.match(value or "")
    return int(match.group(1)) if match else None


def _int_or_none(value: str | None) -> int | None:
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None


def _plus(value: int | None, offset: int) -> int | None:
    return None if value is None else value + offset

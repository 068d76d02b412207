"""Downloads against a real HTTP server on 127.0.0.1 that can cut connections, ignore
ranges and fail on demand."""

from __future__ import annotations

import hashlib
import random
import socket
import urllib.error
from pathlib import Path

import pytest

from freehold.modelfiles.download import (
    DownloadError,
    IntegrityError,
    _connection_error,
    check_filename,
    download,
    fetch,
    filename_from_url,
)
from freehold.testing.file_server import FileServer
from freehold.testing.servers import free_port

DATA = random.Random(7).randbytes(300_000)
DIGEST = hashlib.sha256(DATA).hexdigest()
NAME = "model.gguf"


def leftovers(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir()) if directory.exists() else []


def test_full_download_is_verified_and_renamed(tmp_path: Path) -> None:
    seen: list[tuple[int, int | None]] = []
    with FileServer({NAME: DATA}) as server:
        result = fetch(
            server.url(NAME),
            tmp_path / "models",
            sha256=DIGEST.upper(),
            expected_size=len(DATA),
            progress=lambda done, total: seen.append((done, total)),
        )
    assert result.path == tmp_path / "models" / NAME
    assert result.path.read_bytes() == DATA
    assert (result.size_bytes, result.sha256, result.verified) == (len(DATA), DIGEST, True)
    assert leftovers(tmp_path / "models") == [NAME]
    assert [r.range for r in server.requests] == [None]
    assert seen[-1] == (len(DATA), len(DATA))
    assert [done for done, _ in seen] == sorted(done for done, _ in seen)


def test_download_returns_the_path_and_takes_a_file_name(tmp_path: Path) -> None:
    with FileServer({NAME: DATA}) as server:
        path = download(server.url(NAME) + "?download=true", tmp_path, filename="renamed.gguf")
    assert path == tmp_path / "renamed.gguf"
    assert path.read_bytes() == DATA


def test_resumes_after_the_server_cuts_the_connection(tmp_path: Path) -> None:
    with FileServer({NAME: DATA}, cut_after=123_456) as server:
        result = fetch(server.url(NAME), tmp_path, sha256=DIGEST, retry_delay_s=0)
    assert [r.range for r in server.requests] == [None, "bytes=123456-"]
    assert [r.status for r in server.requests] == [200, 206]
    assert result.path.read_bytes() == DATA
    assert result.verified
    assert leftovers(tmp_path) == [NAME]


def test_resumes_several_cuts_in_a_row(tmp_path: Path) -> None:
    with FileServer({NAME: DATA}, cut_after=50_000, cuts=3) as server:
        result = fetch(server.url(NAME), tmp_path, sha256=DIGEST, retry_delay_s=0)
    assert [r.range for r in server.requests] == [
        None,
        "bytes=50000-",
        "bytes=100000-",
        "bytes=150000-",
    ]
    assert result.path.read_bytes() == DATA


def test_resumes_a_part_left_by_an_earlier_run_and_hashes_it(tmp_path: Path) -> None:
    (tmp_path / f"{NAME}.part").write_bytes(DATA[:100_000])
    with FileServer({NAME: DATA}) as server:
        result = fetch(server.url(NAME), tmp_path, sha256=DIGEST, expected_size=len(DATA))
    assert [r.range for r in server.requests] == ["bytes=100000-"]
    assert server.requests[0].body_bytes == len(DATA) - 100_000
    assert result.verified and result.path.read_bytes() == DATA
    assert leftovers(tmp_path) == [NAME]


def test_a_server_that_ignores_range_restarts_cleanly(tmp_path: Path) -> None:
    (tmp_path / f"{NAME}.part").write_bytes(DATA[:100_000])
    seen: list[int] = []
    with FileServer({NAME: DATA}, ignore_range=True) as server:
        result = fetch(
            server.url(NAME), tmp_path, sha256=DIGEST, progress=lambda done, _: seen.append(done)
        )
    assert [(r.range, r.status) for r in server.requests] == [("bytes=100000-", 200)]
    assert result.path.read_bytes() == DATA
    assert min(seen) == 0 and seen[-1] == len(DATA)


def test_a_complete_part_is_finished_on_416(tmp_path: Path) -> None:
    (tmp_path / f"{NAME}.part").write_bytes(DATA)
    with FileServer({NAME: DATA}) as server:
        result = fetch(server.url(NAME), tmp_path, sha256=DIGEST)
    assert [r.status for r in server.requests] == [416]
    assert result.verified and result.path.read_bytes() == DATA


def test_hash_mismatch_names_both_hashes_and_leaves_nothing(tmp_path: Path) -> None:
    wrong = "0" * 64
    with FileServer({NAME: DATA}) as server, pytest.raises(IntegrityError) as caught:
        fetch(server.url(NAME), tmp_path / "m", sha256=wrong)
    message = str(caught.value)
    assert wrong in message and DIGEST in message and "SHA-256 mismatch" in message
    assert leftovers(tmp_path / "m") == []


def test_a_corrupt_part_fails_the_hash_and_is_deleted(tmp_path: Path) -> None:
    (tmp_path / f"{NAME}.part").write_bytes(b"x" * 1000)
    with FileServer({NAME: DATA}) as server, pytest.raises(IntegrityError, match=DIGEST):
        fetch(server.url(NAME), tmp_path, sha256=DIGEST)
    assert leftovers(tmp_path) == []


def test_size_mismatch_announced_by_the_server_keeps_nothing(tmp_path: Path) -> None:
    with FileServer({NAME: DATA}) as server, pytest.raises(IntegrityError) as caught:
        fetch(server.url(NAME), tmp_path, expected_size=len(DATA) + 1)
    assert f"expected {len(DATA) + 1} bytes" in str(caught.value)
    assert leftovers(tmp_path) == []


def test_size_mismatch_of_a_part_that_is_too_long_restarts(tmp_path: Path) -> None:
    (tmp_path / f"{NAME}.part").write_bytes(DATA + b"extra")
    with FileServer({NAME: DATA}) as server:
        result = fetch(server.url(NAME), tmp_path, sha256=DIGEST, expected_size=len(DATA))
    assert [r.range for r in server.requests] == [None]
    assert result.path.read_bytes() == DATA


def test_404_is_a_clear_error(tmp_path: Path) -> None:
    with FileServer({}) as server, pytest.raises(DownloadError) as caught:
        fetch(server.url("missing.gguf"), tmp_path)
    assert "HTTP 404" in str(caught.value) and "not found" in str(caught.value)
    assert leftovers(tmp_path) == []


def test_403_is_a_clear_error(tmp_path: Path) -> None:
    with FileServer({NAME: DATA}, status={NAME: 403}) as server, pytest.raises(DownloadError) as e:
        fetch(server.url(NAME), tmp_path)
    assert "HTTP 403" in str(e.value) and "access denied" in str(e.value)


def test_5xx_is_retried_then_given_up(tmp_path: Path) -> None:
    with FileServer({NAME: DATA}, status={NAME: 503}) as server, pytest.raises(DownloadError) as e:
        fetch(server.url(NAME), tmp_path, retries=2, retry_delay_s=0)
    assert len(server.requests) == 3
    assert "HTTP 503" in str(e.value) and "gave up after 3 attempts" in str(e.value)


def test_giving_up_keeps_the_part_for_a_later_resume(tmp_path: Path) -> None:
    with FileServer({NAME: DATA}, cut_after=1000, cuts=100) as server:
        with pytest.raises(DownloadError, match="gave up after 2 attempts"):
            fetch(server.url(NAME), tmp_path, retries=1, retry_delay_s=0)
        assert leftovers(tmp_path) == [f"{NAME}.part"]
        assert (tmp_path / f"{NAME}.part").read_bytes() == DATA[:2000]
        server.cuts_left = 0
        result = fetch(server.url(NAME), tmp_path, sha256=DIGEST)
    assert result.path.read_bytes() == DATA
    assert server.requests[-1].range == "bytes=2000-"


def test_connection_refused_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(DownloadError, match="connection refused"):
        fetch(f"http://127.0.0.1:{free_port()}/{NAME}", tmp_path, retries=0)
    assert leftovers(tmp_path) == []


def test_dns_failure_wording() -> None:
    error = _connection_error(
        "https://no-such-host.invalid/x.gguf", urllib.error.URLError(socket.gaierror(-2, "nope"))
    )
    assert str(error) == "cannot resolve host 'no-such-host.invalid' (DNS lookup failed; offline?)"


@pytest.mark.parametrize(
    "url", ["file:///etc/passwd", "ftp://example.com/m.gguf", "m.gguf", "http:///m.gguf"]
)
def test_only_http_urls_are_pulled(tmp_path: Path, url: str) -> None:
    with pytest.raises(DownloadError, match="only http:// and https:// URLs"):
        fetch(url, tmp_path / "m")
    assert not (tmp_path / "m").exists()


def test_an_existing_file_is_checked_not_downloaded_again(tmp_path: Path) -> None:
    (tmp_path / NAME).write_bytes(DATA)
    with FileServer({NAME: DATA}) as server:
        result = fetch(server.url(NAME), tmp_path, sha256=DIGEST)
        assert result.reused and result.verified and server.requests == []
        (tmp_path / NAME).write_bytes(b"something else")
        with pytest.raises(DownloadError, match="--force"):
            fetch(server.url(NAME), tmp_path, sha256=DIGEST)
        result = fetch(server.url(NAME), tmp_path, sha256=DIGEST, overwrite=True)
    assert not result.reused and result.path.read_bytes() == DATA


def test_bad_sha256_argument_is_refused(tmp_path: Path) -> None:
    with pytest.raises(DownloadError, match="not a SHA-256"):
        fetch("http://127.0.0.1:1/m.gguf", tmp_path, sha256="abc")


def test_file_names() -> None:
    assert filename_from_url("https://h/a/b/Model%20Q4.gguf?download=true#x") == "Model Q4.gguf"
    with pytest.raises(DownloadError):
        filename_from_url("https://h/")
    for bad in ("", ".hidden", "a/b", "x.gguf.part", "..\\x"):
        with pytest.raises(DownloadError):
            check_filename(bad)
    check_filename("ok.gguf")


def test_a_directory_in_the_way_is_refused(tmp_path: Path) -> None:
    (tmp_path / NAME).mkdir()
    with pytest.raises(DownloadError, match="is a directory"):
        fetch(f"http://127.0.0.1:1/{NAME}", tmp_path)

"""``freehold pull NAME_OR_URL``: download a GGUF model file, resumably and verified."""

from __future__ import annotations

import sys
from pathlib import Path
from types import TracebackType
from typing import Any

import click

from freehold.cli.common import config_option, echo_json, echo_table, json_option, load_config
from freehold.modelfiles import (
    CatalogEntry,
    Downloaded,
    DownloadError,
    UnknownModel,
    default_models_dir,
    fetch,
    load_catalog,
    lookup,
)
from freehold.modelfiles.download import check_url, normalize_sha256


def human_size(size: int) -> str:
    """Bytes for people: ``491400032`` → ``468.6 MiB``."""
    value = float(size)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if value < 1024 or unit == "GiB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    raise AssertionError("unreachable")


class _ProgressBar:
    """``click.progressbar`` on stderr, opened once the total size is known."""

    def __init__(self, label: str) -> None:
        self.label = label
        self.bar: Any = None
        self.done = 0

    def __call__(self, done: int, total: int | None) -> None:
        if self.bar is None:
            if not total:
                return
            size = human_size(total)
            self.bar = click.progressbar(
                length=total,
                label=self.label,
                file=sys.stderr,
                show_pos=False,
                item_show_func=lambda d: None if d is None else f"{human_size(d)} of {size}",
            )
            self.bar.__enter__()
        if done < self.done:  # the server made the download restart
            self.done = 0
            self.bar.pos = 0
        self.bar.update(done - self.done, done)
        self.done = done

    def __enter__(self) -> _ProgressBar:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self.bar is not None:
            self.bar.__exit__(kind, exc, tb)


_Target = tuple[str, str | None, str | None, int | None]


def _resolve(name_or_url: str, sha256: str | None) -> _Target:
    """(url, file name, expected sha256, expected size); usage errors exit 2."""
    expected = None
    if sha256 is not None:
        try:
            expected = normalize_sha256(sha256)
        except DownloadError as exc:
            raise click.BadParameter(str(exc), param_hint="--sha256") from None
    if "://" in name_or_url:
        try:
            check_url(name_or_url)
        except DownloadError as exc:
            raise click.UsageError(str(exc)) from None
        return name_or_url, None, expected, None
    try:
        entry: CatalogEntry = lookup(name_or_url)
    except UnknownModel as exc:
        raise click.UsageError(str(exc)) from None
    if expected is not None and entry.sha256 is not None and expected != entry.sha256:
        raise click.BadParameter(
            f"{name_or_url} is known with sha256 {entry.sha256}; drop --sha256 or pull by URL",
            param_hint="--sha256",
        )
    return entry.url, entry.filename, expected or entry.sha256, entry.size_bytes


def _report(result: Downloaded) -> None:
    where = "already present" if result.reused else "saved"
    click.echo(f"{where}: {result.path} ({human_size(result.size_bytes)})")
    if result.verified:
        click.echo(f"sha256 {result.sha256} (verified)")
    else:
        click.echo(
            f"sha256 {result.sha256} (unverified: no expected hash was known; "
            "pass --sha256 to check one)"
        )


def _list_catalog(as_json: bool) -> None:
    entries = load_catalog()
    if as_json:
        echo_json({"models": [entry.model_dump() for entry in entries.values()]})
        return
    echo_table(
        ["NAME", "SIZE", "QUANT", "PARAMS", "LICENSE", "FILE"],
        [
            [name, human_size(e.size_bytes), e.quantization, e.params, e.license, e.filename]
            for name, e in entries.items()
        ],
    )


@click.command(short_help="Download a GGUF model file.")
@click.argument("name_or_url", required=False)
@click.option("--list", "list_names", is_flag=True, help="List the catalogue's short names.")
@click.option(
    "--to",
    "to_dir",
    type=click.Path(file_okay=False),
    default=None,
    help="Directory to save into. Default: $FREEHOLD_HOME/models (~/.freehold/models).",
)
@click.option("--sha256", default=None, metavar="HEX", help="Expected SHA-256 of the file.")
@click.option("--force", is_flag=True, help="Download again even if the file is already there.")
@config_option
@json_option
def pull(
    name_or_url: str | None,
    list_names: bool,
    to_dir: str | None,
    sha256: str | None,
    force: bool,
    config_path: str | None,
    as_json: bool,
) -> None:
    """Download NAME_OR_URL: a short name from the catalogue (e.g. qwen2.5-0.5b) or an
    http(s) URL to a .gguf file.

    The download resumes where an interrupted one stopped, survives dropped connections and
    is checked against the expected size and SHA-256 before it gets its final name; a file
    that fails the check is deleted. Exit status: 0 done, 1 download or verification
    failed, 2 usage (e.g. an unknown name; the message lists the known ones).
    """
    load_config(config_path)
    if list_names:
        _list_catalog(as_json)
        return
    if name_or_url is None:
        raise click.UsageError("give a short name (see --list) or a URL")
    url, filename, expected, size = _resolve(name_or_url, sha256)
    dest_dir = Path(to_dir) if to_dir else default_models_dir()
    label = filename or url.rsplit("/", 1)[-1].split("?", 1)[0]
    try:
        with _ProgressBar(label) as bar:
            result = fetch(
                url,
                dest_dir,
                filename=filename,
                sha256=expected,
                expected_size=size,
                progress=bar,
                overwrite=force,
            )
    except DownloadError as exc:
        click.echo(f"error: {exc}", err=True)
        raise SystemExit(1) from None
    except KeyboardInterrupt:
        click.echo("\ninterrupted; run the same command again to resume", err=True)
        raise SystemExit(130) from None
    if as_json:
        echo_json(
            {
                "path": str(result.path),
                "size_bytes": result.size_bytes,
                "sha256": result.sha256,
                "verified": result.verified,
            }
        )
        return
    _report(result)

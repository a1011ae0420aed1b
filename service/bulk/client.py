"""The command line's side of bulk loading: stream a file to a running service, show the
progress by bytes sent, print the report; stream an export to a file or stdout."""

import json
import sys
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any, BinaryIO

import httpx
from rich.console import Console
from rich.progress import (
    BarColumn,
    DownloadColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeRemainingColumn,
    TransferSpeedColumn,
)

CHUNK = 1024 * 1024
CONTENT_TYPES = {"ndjson": "application/x-ndjson", "csv": "text/csv"}
# Uploads and exports of large files take as long as they take; only connecting is bounded.
TIMEOUT = httpx.Timeout(None, connect=10.0)


class ClientError(Exception):
    """Something the user must fix: the message says what."""


def guess_format(file: Path) -> tuple[str, bool]:
    """(format, already gzip) from the file name: clusters.csv, missions.ndjson.gz, ..."""
    suffixes = [s.lower() for s in file.suffixes]
    compressed = bool(suffixes) and suffixes[-1] == ".gz"
    if compressed:
        suffixes = suffixes[:-1]
    last = suffixes[-1] if suffixes else ""
    if last == ".csv":
        return "csv", compressed
    if last in (".ndjson", ".jsonl"):
        return "ndjson", compressed
    raise ClientError(f"cannot tell the format of {file.name}: name it .csv or .ndjson, or pass --format")


def _chunks(stream: BinaryIO, progress: Progress, task: TaskID, compress: bool) -> Iterator[bytes]:
    deflater = zlib.compressobj(6, zlib.DEFLATED, 16 + zlib.MAX_WBITS) if compress else None
    while chunk := stream.read(CHUNK):
        progress.update(task, advance=len(chunk))
        if deflater:
            chunk = deflater.compress(chunk)
            if not chunk:
                continue
        yield chunk
    if deflater:
        yield deflater.flush()
    progress.update(task, description="waiting for the report")


def upload(
    api: str, file: Path, resource: str, *, format: str | None, mode: str, dry_run: bool, gzip: bool,
    idempotency_key: str | None, api_key: str | None, console: Console,
) -> httpx.Response:
    guessed, compressed = guess_format(file) if format is None else (format, file.suffix.lower() == ".gz")
    headers = {"Content-Type": CONTENT_TYPES[guessed]}
    if api_key:
        headers["Authorization"] = f"Bearer {api_key}"
    if compressed or gzip:
        headers["Content-Encoding"] = "gzip"
    if idempotency_key:
        headers["Idempotency-Key"] = idempotency_key
    params = {"mode": mode, "dry_run": str(dry_run).lower()}
    columns = (TextColumn("{task.description}"), BarColumn(), DownloadColumn(), TransferSpeedColumn(), TimeRemainingColumn())
    with Progress(*columns, console=console, transient=True) as progress, file.open("rb") as stream:
        task = progress.add_task(f"sending {file.name}", total=file.stat().st_size)
        content = _chunks(stream, progress, task, compress=gzip and not compressed)
        try:
            return httpx.post(f"{api.rstrip('/')}/v1/bulk/{resource}", content=content, params=params, headers=headers,
                              timeout=TIMEOUT)
        except httpx.TransportError as exc:
            raise ClientError(f"cannot reach the service at {api} ({exc}); is `partnerships serve` running?") from None


def report_lines(report: dict[str, Any]) -> list[str]:
    outcome = "dry run, nothing committed" if report["dry_run"] else "committed" if report["committed"] else "nothing committed"
    lines = [
        f"{report['resource']}: {report['received']} received, {report['created']} created, {report['updated']} updated, "
        f"{report['unchanged']} unchanged, {report['rejected']} rejected ({outcome})"
    ]
    for error in report["errors"]:
        where = f"line {error['line']}" + (f", {error['field']}" if error["field"] else "")
        lines.append(f"  {where}: {error['message']}")
    if report["errors_truncated"]:
        lines.append("  (more errors not listed)")
    return lines


def problem_lines(response: httpx.Response) -> list[str]:
    try:
        problem = response.json()
    except ValueError:
        return [f"the service answered {response.status_code}: {response.text[:500]}"]
    lines = [f"{problem.get('title', 'error')} ({response.status_code}): {problem.get('detail', '')}"]
    lines += [f"  {e['location']}: {e['message']}" for e in problem.get("errors") or []]
    return lines


def export(api: str, resource: str, format: str, output: BinaryIO) -> None:
    accept = CONTENT_TYPES[format]
    try:
        with httpx.stream("GET", f"{api.rstrip('/')}/v1/export/{resource}", headers={"Accept": accept}, timeout=TIMEOUT) as response:
            if response.status_code != 200:
                response.read()
                raise ClientError("\n".join(problem_lines(response)))
            for chunk in response.iter_bytes(CHUNK):
                output.write(chunk)
    except httpx.TransportError as exc:
        raise ClientError(f"cannot reach the service at {api} ({exc}); is `partnerships serve` running?") from None
    output.flush()


def print_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, indent=2, ensure_ascii=False) + "\n")

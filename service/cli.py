"""The `partnerships` command."""

import asyncio
import json
import logging
import signal
import sys
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, TypeVar

import typer
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from service.config import get_settings

if TYPE_CHECKING:
    from fastapi import FastAPI

app = typer.Typer(help="Partnership Opportunity API: serve, migrate, and manage data.", no_args_is_help=True)
log = logging.getLogger("partnerships")
T = TypeVar("T")


def _setup_logging() -> None:
    from service.ops.logging import configure_logging

    configure_logging(get_settings().log)


@contextmanager
def _embedded_lifetime() -> Iterator[None]:
    """Stop the embedded PostgreSQL this process started, once, however the command ends: it
    must outlive every engine (and, for `serve`, the server) that talks to it."""
    from service.db import stop_embedded

    try:
        yield
    finally:
        stop_embedded()


async def _with_engine(work: Callable[[AsyncEngine], Awaitable[T]]) -> T:
    """work(engine) against the configured database (the embedded one started when DATABASE_URL
    is not set); the engine is disposed once, whatever work does."""
    from service.db import create_engine, database_url

    settings = get_settings()
    engine = create_engine(database_url(settings), settings)
    try:
        return await work(engine)
    finally:
        await engine.dispose()


def _on_database(work: Callable[[AsyncEngine], Awaitable[T]]) -> T:
    """Run work(engine) to the end, then stop the embedded PostgreSQL."""
    with _embedded_lifetime():
        return asyncio.run(_with_engine(work))


async def _prepare(engine: AsyncEngine, demo: bool) -> None:
    """Migrate the database to head and, when asked, load the demo data into an empty one."""
    from service import demo as demo_data
    from service.db import create_sessionmaker
    from service.kit.clock import Clock
    from service.migrate import upgrade

    await upgrade(engine)
    log.info("database migrated to the latest revision")
    if demo:
        async with create_sessionmaker(engine)() as session:
            if await demo_data.is_empty(session):
                counts = await demo_data.load(session, Clock().today())
                await session.commit()
                log.info("demo data loaded: %s", ", ".join(f"{n} {k}" for k, n in counts.items()))
            else:
                log.info("database already holds data; demo data not loaded")


@app.command()
def serve(
    demo: Annotated[bool, typer.Option(help="Load the demo dataset if the database is empty.")] = False,
    host: Annotated[str | None, typer.Option(help="Interface to bind (default: SERVER__HOST).")] = None,
    port: Annotated[int | None, typer.Option(help="Port (default: SERVER__PORT).")] = None,
    workers: Annotated[int | None, typer.Option(min=1, max=64, help="Server processes (default: SERVER__WORKERS).")] = None,
) -> None:
    """Apply migrations and serve the API (embedded PostgreSQL unless DATABASE_URL is set)."""
    from service import serve as serving

    _setup_logging()
    settings = get_settings()
    workers = workers or settings.server.workers
    try:
        serving.check_workers(settings, workers)
    except serving.UnsharedLimits as exc:
        raise typer.BadParameter(str(exc), param_hint="--workers") from None
    # uvicorn shuts down gracefully on SIGTERM, then re-raises the signal; exiting through
    # SystemExit instead of dying by it lets the embedded PostgreSQL be stopped below.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    with _embedded_lifetime():
        asyncio.run(_with_engine(lambda engine: _prepare(engine, demo)))
        host, port = host or settings.server.host, port or settings.server.port
        log.info("serving on http://%s:%d (docs at /docs) in %d process(es)", host, port, workers)
        serving.run(settings, host, port, workers)


@app.command()
def worker(
    concurrency: Annotated[int | None, typer.Option(help="Tasks run at once (default: TASKS__CONCURRENCY).")] = None,
) -> None:
    """Run a background worker: bulk jobs, calendar syncs, webhook deliveries, alerts, upkeep.
    Run as many as needed, on any machine that reaches the database; stop with SIGTERM."""
    from service.db import create_sessionmaker, database_url
    from service.kit.clock import Clock
    from service.tasks.runtime import Resources
    from service.tasks.worker import run_worker

    _setup_logging()
    settings = get_settings()

    if settings.tasks.metrics_port:
        # Each worker process counts its own tasks: a scrape of `serve` never sees them.
        from prometheus_client import start_http_server

        start_http_server(settings.tasks.metrics_port, addr=settings.server.host)

    async def work(engine: AsyncEngine) -> None:
        await _prepare(engine, demo=False)
        service = Resources(create_sessionmaker(engine, settings), settings, Clock())
        await run_worker(database_url(settings), service, concurrency or settings.tasks.concurrency,
                         install_signal_handlers=True)

    _on_database(work)


@app.command()
def migrate() -> None:
    """Apply all migrations to the database."""
    _setup_logging()
    _on_database(lambda engine: _prepare(engine, demo=False))


async def _sync_all(engine: AsyncEngine) -> int:
    """Sync every calendar source, each in its own transaction; returns how many failed."""
    from service.calendar.repository import all_ids
    from service.calendar.service import sync_committed
    from service.db import create_sessionmaker
    from service.errors import ServiceError
    from service.kit.clock import Clock

    settings = get_settings()
    failures = 0
    sessions = create_sessionmaker(engine)
    async with sessions() as session:
        sources = await all_ids(session)
    for source_id, url in sources:
        try:
            report = await sync_committed(sessions, str(source_id), settings.calendar, Clock())
        except ServiceError as exc:
            failures += 1
            typer.echo(f"{url}: {exc.detail}", err=True)
            continue
        if report.not_modified:
            typer.echo(f"{url}: not modified")
        else:
            typer.echo(
                f"{url}: {report.created} created, {report.updated} updated, {report.cancelled} cancelled, "
                f"{report.unchanged} unchanged, {len(report.rejected)} rejected"
            )
            for rejected in report.rejected:
                typer.echo(f"  rejected {rejected.uid or '(no UID)'}: {rejected.reason}")
    return failures


@app.command("sync-calendars")
def sync_calendars() -> None:
    """Fetch every registered calendar source and apply it (exit 1 if any feed was rejected)."""
    _setup_logging()
    failures = _on_database(_sync_all)
    raise typer.Exit(1 if failures else 0)


@app.command()
def purge() -> None:
    """Delete every expired idempotency answer (of POSTs and of bulk loads). The service purges a
    batch at most once a minute as requests come; run this from cron where they come rarely."""
    from service.ops.purge import Purged, purge_batch

    async def work(session: AsyncSession) -> Purged:
        records = bulk = 0
        while True:  # in batches, each committed: short transactions, few locks held
            batch = await purge_batch(session, get_settings())
            await session.commit()
            records, bulk = records + batch.idempotency_records, bulk + batch.bulk_idempotency_keys
            if batch.total == 0:
                return Purged(records, bulk)

    purged = _run(work)
    typer.echo(f"purged {purged.idempotency_records} idempotency answers and {purged.bulk_idempotency_keys} bulk-load answers")


keys_app = typer.Typer(help="Issue, list and revoke API keys (directly in the database).", no_args_is_help=True)
app.add_typer(keys_app, name="keys")


def _run(work: Callable[[AsyncSession], Awaitable[T]]) -> T:
    """Run work(session) in one transaction against the configured database; a ServiceError
    is printed and exits 2."""
    from service.db import create_sessionmaker
    from service.errors import ServiceError

    async def in_transaction(engine: AsyncEngine) -> T:
        async with create_sessionmaker(engine)() as session:
            result = await work(session)
            await session.commit()
            return result

    try:
        return _on_database(in_transaction)
    except ServiceError as exc:
        typer.echo(f"error: {exc.detail or exc.title}", err=True)
        raise typer.Exit(2) from None


@keys_app.command("create")
def keys_create(
    scope: Annotated[str, typer.Option(help="read, write, bulk or admin.")] = "write",
    cluster: Annotated[str | None, typer.Option(help="Bind the key to this cluster (slug).")] = None,
    name: Annotated[str, typer.Option(help="Who or what uses the key.")] = "command line",
) -> None:
    """Issue a key and print it (shown once; only its hash is stored)."""
    from service.access import service as access
    from service.access.schemas import ApiKeyCreate

    try:
        data = ApiKeyCreate(name=name, scope=scope, cluster=cluster)
    except ValueError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None
    created = _run(lambda session: access.create(session, data))
    typer.echo(created.key)
    typer.echo(f"id {created.id}, scope {created.scope}" + (f", bound to {created.cluster}" if created.cluster else ""), err=True)


@keys_app.command("list")
def keys_list(all_keys: Annotated[bool, typer.Option("--all", help="Include revoked keys.")] = False) -> None:
    """List keys (never their secrets)."""
    from service.access import service as access

    for key in _run(lambda session: access.listing(session, include_revoked=all_keys)):
        state = f"revoked {key.revoked_at:%Y-%m-%d}" if key.revoked_at else "active"
        typer.echo(f"{key.id}  pop_{key.prefix}_…  {key.scope:<5}  {key.cluster or '-':<24}  {state}  {key.name}")


@keys_app.command("revoke")
def keys_revoke(key: Annotated[str, typer.Argument(help="The key's id or prefix.")]) -> None:
    """Revoke a key: it stops working at once."""
    from service.access import service as access
    from service.kit.clock import Clock

    _run(lambda session: access.revoke(session, key, Clock()))
    typer.echo(f"revoked {key}")


def _api_default() -> str:
    server = get_settings().server
    host = "127.0.0.1" if server.host in ("0.0.0.0", "::") else server.host
    return f"http://{host}:{server.port}"


API_HELP = "URL of the running service (default: http://127.0.0.1:8000, or SERVER__HOST and SERVER__PORT)."
RESOURCE_NAMES = (
    "clusters", "partnerships", "target-markets", "missions", "agreements", "opportunities",
    "meeting-sessions", "meeting-availability", "meeting-requests",
)


def _resource(name: str) -> str:
    from service.bulk.resources import RESOURCES

    if name not in RESOURCES:
        raise typer.BadParameter(f"one of {', '.join(RESOURCES)}")
    return name


class Mode(StrEnum):
    strict = "strict"
    partial = "partial"


class FileFormat(StrEnum):
    ndjson = "ndjson"
    csv = "csv"


@app.command()
def load(
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, readable=True, help="An NDJSON or CSV file (.gz too).")],
    resource: Annotated[str, typer.Option("--resource", "-r", callback=_resource, help=f"One of: {', '.join(RESOURCE_NAMES)}.")],
    mode: Annotated[Mode, typer.Option(help="strict: any rejected row means nothing is committed; partial: commit the valid rows.")] = Mode.strict,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Validate and report only.")] = False,
    api: Annotated[str | None, typer.Option(help=API_HELP)] = None,
    gzip: Annotated[bool, typer.Option("--gzip", help="Compress the upload on the fly.")] = False,
    file_format: Annotated[FileFormat | None, typer.Option("--format", help="Default: from the file name.")] = None,
    idempotency_key: Annotated[str | None, typer.Option(help="Retrying with the same key is never applied twice.")] = None,
    key: Annotated[str | None, typer.Option(envvar="PARTNERSHIPS_API_KEY", help="An API key with the bulk scope.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
) -> None:
    """Load (upsert) a file of records into a running service and print the report.

    Exit status: 1 when rows were rejected in strict mode (then nothing was committed); 2 when the file could not be loaded at all.
    """
    from rich.console import Console

    from service.bulk import client

    try:
        response = client.upload(
            api or _api_default(), file, resource, format=file_format.value if file_format else None, mode=mode.value,
            dry_run=dry_run, gzip=gzip, idempotency_key=idempotency_key, api_key=key, console=Console(stderr=True),
        )
    except client.ClientError as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(2) from None
    body = response.json() if response.headers.get("content-type", "").endswith("json") else {}
    report = body if response.status_code == 200 else body.get("report")
    if report is None:
        for line in client.problem_lines(response):
            typer.echo(line, err=True)
        raise typer.Exit(2)
    if as_json:
        client.print_json(report)
    else:
        for line in client.report_lines(report):
            typer.echo(line)
    raise typer.Exit(1 if report["rejected"] and report["mode"] == "strict" else 0)


@app.command()
def export(
    resource: Annotated[str, typer.Argument(callback=_resource, help=f"One of: {', '.join(RESOURCE_NAMES)}.")],
    file_format: Annotated[FileFormat, typer.Option("--format", help="ndjson or csv.")] = FileFormat.ndjson,
    api: Annotated[str | None, typer.Option(help=API_HELP)] = None,
    output: Annotated[Path | None, typer.Option("--output", "-o", help="Write here instead of stdout.")] = None,
) -> None:
    """Export every record of a resource from a running service, in the shape `load` takes."""
    from service.bulk import client

    try:
        if output is None:
            client.export(api or _api_default(), resource, file_format.value, sys.stdout.buffer)
        else:
            with output.open("wb") as stream:
                client.export(api or _api_default(), resource, file_format.value, stream)
    except client.ClientError as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(2) from None


@app.command()
def openapi(
    output: Annotated[Path, typer.Option(help="Where to write the document.")] = Path("openapi/openapi.json"),
) -> None:
    """Write the OpenAPI document of the API."""
    from service.main import create_app

    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(openapi_text(create_app()), encoding="utf-8")
    typer.echo(f"wrote {output}")


def openapi_text(application: "FastAPI") -> str:
    return json.dumps(application.openapi(), indent=2, ensure_ascii=False, sort_keys=True) + "\n"


def main() -> None:
    """The `partnerships` command: a missing database is a message, not a traceback."""
    from service.db import EmbeddedUnavailable

    try:
        app()
    except EmbeddedUnavailable as exc:
        typer.echo(f"error: {exc}", err=True)
        raise SystemExit(2) from None


if __name__ == "__main__":
    main()

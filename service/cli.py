"""The `partnerships` command."""

import asyncio
import json
import logging
import signal
import sys
from pathlib import Path
from typing import Annotated

import typer

from service.config import get_settings

app = typer.Typer(help="Partnership Opportunity API: serve, migrate, and manage data.", no_args_is_help=True)
log = logging.getLogger("partnerships")


def _setup_logging() -> None:
    from service.ops.logging import configure_logging

    configure_logging(get_settings().log)


async def _prepare(demo: bool) -> None:
    """Migrate the database to head and, when asked, load the demo data into an empty one."""
    from service import demo as demo_data
    from service.db import create_engine, create_sessionmaker, database_url
    from service.kit.clock import Clock
    from service.migrate import upgrade

    settings = get_settings()
    engine = create_engine(database_url(settings), settings)
    try:
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
    finally:
        await engine.dispose()


@app.command()
def serve(
    demo: Annotated[bool, typer.Option(help="Load the demo dataset if the database is empty.")] = False,
    host: Annotated[str | None, typer.Option(help="Interface to bind (default: SERVER__HOST).")] = None,
    port: Annotated[int | None, typer.Option(help="Port (default: SERVER__PORT).")] = None,
) -> None:
    """Apply migrations and serve the API (embedded PostgreSQL unless DATABASE_URL is set)."""
    import uvicorn

    from service.db import stop_embedded
    from service.main import create_app

    _setup_logging()
    settings = get_settings()
    # uvicorn shuts down gracefully on SIGTERM, then re-raises the signal; exiting through
    # SystemExit instead of dying by it lets the embedded PostgreSQL be stopped below.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    try:
        asyncio.run(_prepare(demo))
        host, port = host or settings.server.host, port or settings.server.port
        log.info("serving on http://%s:%d (docs at /docs)", host, port)
        uvicorn.run(
            create_app(settings),
            host=host,
            port=port,
            # Logging is configured above (LOG__FORMAT, LOG__LEVEL); uvicorn's own access
            # log is off because it prints query strings, which may carry credentials.
            log_config=None,
            access_log=False,
            timeout_graceful_shutdown=settings.server.graceful_timeout,
            proxy_headers=True,
            forwarded_allow_ips=settings.server.forwarded_allow_ips,
        )
    finally:
        stop_embedded()


@app.command()
def migrate() -> None:
    """Apply all migrations to the database."""
    from service.db import stop_embedded

    _setup_logging()
    try:
        asyncio.run(_prepare(demo=False))
    finally:
        stop_embedded()


async def _sync_all() -> int:
    """Sync every calendar source, each in its own transaction; returns how many failed."""
    from sqlalchemy import select

    from service.calendar.service import sync_source
    from service.db import create_engine, create_sessionmaker, database_url
    from service.errors import ServiceError
    from service.kit.clock import Clock
    from service.models import CalendarSource

    settings = get_settings()
    engine = create_engine(database_url(settings), settings)
    failures = 0
    try:
        sessions = create_sessionmaker(engine)
        async with sessions() as session:
            sources = list(await session.execute(select(CalendarSource.id, CalendarSource.url)))
        for source_id, url in sources:
            async with sessions() as session:
                try:
                    report = await sync_source(session, str(source_id), settings.calendar, Clock())
                    await session.commit()
                except ServiceError as exc:
                    await session.rollback()
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
    finally:
        await engine.dispose()
    return failures


@app.command("sync-calendars")
def sync_calendars() -> None:
    """Fetch every registered calendar source and apply it (exit 1 if any feed was rejected)."""
    from service.db import stop_embedded

    _setup_logging()
    try:
        failures = asyncio.run(_sync_all())
    finally:
        stop_embedded()
    raise typer.Exit(1 if failures else 0)


@app.command()
def openapi(
    output: Annotated[Path, typer.Option(help="Where to write the document.")] = Path("openapi/openapi.json"),
) -> None:
    """Write the OpenAPI document of the API."""
    from service.main import create_app

    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(openapi_text(create_app()), encoding="utf-8")
    typer.echo(f"wrote {output}")


def openapi_text(application) -> str:
    return json.dumps(application.openapi(), indent=2, ensure_ascii=False, sort_keys=True) + "\n"


if __name__ == "__main__":
    app()

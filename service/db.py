"""Database access: where PostgreSQL is, engines, and the one session per request.

With no DATABASE_URL the service starts an embedded PostgreSQL (the pgserver package ships
real PostgreSQL binaries) in a data folder that survives restarts.
"""

import logging
import warnings
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy import make_url
from sqlalchemy.engine import URL
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from service.config import Settings

log = logging.getLogger(__name__)

EMBEDDED_DATABASE = "partnerships"

# The embedded server handle must outlive every engine that talks to it: pgserver stops the
# server when the last handle in the process is garbage-collected.
_embedded_servers: dict[str, object] = {}


def start_embedded(data_dir) -> URL:
    """Start (or reuse) the embedded PostgreSQL in data_dir and return an asyncpg URL."""
    key = str(data_dir)
    server = _embedded_servers.get(key)
    if server is None:
        data_dir.mkdir(parents=True, exist_ok=True)
        with warnings.catch_warnings():
            # pgserver asks platformdirs for XDG_RUNTIME_DIR, unset in containers; harmless.
            warnings.simplefilter("ignore")
            import pgserver  # imported lazily: only needed without DATABASE_URL

            server = pgserver.get_server(data_dir, cleanup_mode="stop")
        _embedded_servers[key] = server
        log.info("embedded PostgreSQL running with its data in %s", data_dir)
        exists = server.psql(
            f"SELECT 1 FROM pg_database WHERE datname = '{EMBEDDED_DATABASE}';"
        )
        if "(1 row)" not in exists:
            server.psql(f"CREATE DATABASE {EMBEDDED_DATABASE};")
    return to_asyncpg_url(server.get_uri(EMBEDDED_DATABASE))


def stop_embedded() -> None:
    """Stop the embedded servers this process started.

    pgserver stops a server at exit only when it believes no other process uses it, and a
    process that died uncleanly leaves it believing so forever; stopping explicitly keeps a
    stopped service from leaving PostgreSQL running behind it.
    """
    from pgserver._commands import pg_ctl

    while _embedded_servers:
        data_dir, server = _embedded_servers.popitem()
        server.cleanup()  # pgserver's own stop; also keeps its exit hook from trying again
        if (Path(data_dir) / "postmaster.pid").exists():
            try:
                pg_ctl(["-w", "-m", "fast", "stop"], pgdata=Path(data_dir), user=server.system_user)
            except Exception as exc:  # stopped meanwhile
                log.debug("embedded PostgreSQL in %s: %s", data_dir, exc)
        log.info("embedded PostgreSQL stopped")


def to_asyncpg_url(url: str | URL) -> URL:
    """Accept postgres://, postgresql:// or postgresql+driver:// and use asyncpg."""
    parsed = make_url(url) if isinstance(url, str) else url
    if parsed.drivername in ("postgres", "postgresql") or parsed.drivername.startswith(
        "postgresql+"
    ):
        return parsed.set(drivername="postgresql+asyncpg")
    raise ValueError(f"not a PostgreSQL URL: {parsed.drivername}://…")


def database_url(settings: Settings) -> URL:
    if settings.database_url:
        return to_asyncpg_url(settings.database_url)
    return start_embedded(settings.embedded.data_dir)


def session_settings(settings: Settings) -> dict[str, str]:
    """PostgreSQL settings for every connection of the service."""
    values = {"application_name": "partnerships"}
    if settings.db.statement_timeout_ms:
        values["statement_timeout"] = str(settings.db.statement_timeout_ms)
    return values


def create_engine(url: URL, settings: Settings) -> AsyncEngine:
    db = settings.db
    return create_async_engine(
        url,
        pool_size=db.pool_size,
        max_overflow=db.max_overflow,
        pool_timeout=db.pool_timeout,
        pool_pre_ping=db.pre_ping,
        echo=db.echo,
        connect_args={"server_settings": session_settings(settings)},
    )


def create_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    # expire_on_commit=False: responses are built from objects after the commit.
    return async_sessionmaker(engine, expire_on_commit=False, autoflush=False)


async def request_session(request: Request) -> AsyncIterator[AsyncSession]:
    """One session per request: committed once when the handler succeeds, else rolled back.

    Services and repositories never commit; this is the only transaction boundary of the
    HTTP layer, so a request either changes everything it meant to or nothing.
    """
    async with request.app.state.sessionmaker() as session:
        try:
            yield session
            await session.commit()
        except BaseException:
            await session.rollback()
            raise


# scope="function": the commit runs as soon as the handler returns, before the response is
# sent, so a failing commit (a deferred constraint, a lost connection) becomes the response.
SessionDep = Annotated[AsyncSession, Depends(request_session, scope="function")]

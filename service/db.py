"""Database access: where PostgreSQL is, engines, and the one session per request.

With no DATABASE_URL the service starts an embedded PostgreSQL (the pgserver package ships
real PostgreSQL binaries, installed with the `embedded` extra) in a data folder that
survives restarts.
"""

import asyncio
import logging
import os
import uuid
import warnings
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, cast

from fastapi import Depends, Request
from sqlalchemy import event, make_url
from sqlalchemy.engine import URL, Connection
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.orm import Session, SessionTransaction

from service.access.principal import Principal, authenticate
from service.config import DatabaseSettings, Settings
from service.errors import ServiceUnavailable

if TYPE_CHECKING:
    from pgserver.postgres_server import PostgresServer

log = logging.getLogger(__name__)

EMBEDDED_DATABASE = "partnerships"

# The embedded server handles must outlive every engine that talks to them: pgserver stops a
# server when the last handle in the process is garbage-collected. With each, whether this
# process started it (a server another process runs, say `partnerships serve` while
# `partnerships keys` runs beside it, is used and left running).
_embedded_servers: dict[str, tuple["PostgresServer", bool]] = {}


class EmbeddedUnavailable(RuntimeError):
    """No DATABASE_URL, and no embedded PostgreSQL installed to start instead."""


def _pgserver_get_server() -> Callable[..., "PostgresServer"]:
    try:
        with warnings.catch_warnings():
            # pgserver asks platformdirs for XDG_RUNTIME_DIR, unset in containers; harmless.
            warnings.simplefilter("ignore")
            from pgserver.postgres_server import get_server  # imported lazily: only needed without DATABASE_URL
    except ImportError:
        raise EmbeddedUnavailable(
            "DATABASE_URL is not set and the embedded PostgreSQL is not installed: set DATABASE_URL "
            "to a PostgreSQL URL, or install the embedded one with pip install 'partnership-opportunity-api[embedded]'"
        ) from None
    return get_server


def _running(data_dir: Path) -> bool:
    """Whether a postmaster is already running on data_dir."""
    try:
        pid = int((data_dir / "postmaster.pid").read_text().split()[0])
        os.kill(pid, 0)
    except (OSError, ValueError, IndexError):
        return False
    return True


def start_embedded(data_dir: Path) -> URL:
    """Start (or reuse) the embedded PostgreSQL in data_dir and return an asyncpg URL."""
    key = str(data_dir)
    if key in _embedded_servers:
        server, _ = _embedded_servers[key]
    else:
        get_server = _pgserver_get_server()
        data_dir.mkdir(parents=True, exist_ok=True)
        started_here = not _running(data_dir)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            server = get_server(data_dir, cleanup_mode="stop")
        _embedded_servers[key] = (server, started_here)
        log.info("embedded PostgreSQL running with its data in %s", data_dir)
        exists = server.psql(
            f"SELECT 1 FROM pg_database WHERE datname = '{EMBEDDED_DATABASE}';"
        )
        if "(1 row)" not in exists:
            server.psql(f"CREATE DATABASE {EMBEDDED_DATABASE};")
    return to_asyncpg_url(server.get_uri(EMBEDDED_DATABASE))


def stop_embedded(data_dir: Path | None = None) -> None:
    """Stop the embedded servers this process started (or only the one in data_dir); servers
    that were running already are left running.

    pgserver stops a server at exit only when it believes no other process uses it, and a
    process that died uncleanly leaves it believing so forever; stopping explicitly keeps a
    stopped service from leaving PostgreSQL running behind it.
    """
    if not _embedded_servers:
        return  # importing pgserver has side effects (a warning about XDG_RUNTIME_DIR)
    # pgserver defines a function per binary it ships at import time (setattr), out of sight
    # of a type checker.
    from pgserver._commands import pg_ctl  # type: ignore[attr-defined]

    keys = [str(data_dir)] if data_dir is not None else list(_embedded_servers)
    for key in keys:
        if key not in _embedded_servers:
            continue
        server, started_here = _embedded_servers.pop(key)
        server.cleanup()  # pgserver's own stop; also keeps its exit hook from trying again
        if not started_here:
            continue  # another process runs it
        if (Path(key) / "postmaster.pid").exists():
            try:
                pg_ctl(["-w", "-m", "fast", "stop"], pgdata=Path(key), user=server.system_user)
            except Exception as exc:  # stopped meanwhile
                log.debug("embedded PostgreSQL in %s: %s", key, exc)
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
    """PostgreSQL settings sent when a connection opens."""
    values = {"application_name": "partnerships"}
    # PgBouncer refuses unknown startup parameters such as statement_timeout, so behind it
    # the timeout is set per transaction instead (see create_sessionmaker).
    if settings.db.statement_timeout_ms and not settings.db.pgbouncer:
        values["statement_timeout"] = str(settings.db.statement_timeout_ms)
    return values


def create_engine(url: URL, settings: Settings) -> AsyncEngine:
    db = settings.db
    connect_args: dict[str, Any] = {
        # asyncpg waits 60 s for a connection by default; a database that is down or
        # unreachable must turn into a quick 503 instead of a hung request.
        "timeout": db.connect_timeout,
        "server_settings": session_settings(settings),
    }
    if db.pgbouncer:
        # In transaction mode consecutive transactions may run on different server
        # connections: a prepared statement cached on one is missing on the next, and
        # asyncpg's numbered names collide between clients. Cache nothing, name uniquely.
        connect_args |= {
            "statement_cache_size": 0,
            "prepared_statement_cache_size": 0,
            "prepared_statement_name_func": _unique_statement_name,
        }
    return create_async_engine(
        url,
        pool_size=db.pool_size,
        max_overflow=db.max_overflow,
        pool_timeout=db.pool_timeout,
        pool_pre_ping=db.pre_ping,
        echo=db.echo,
        connect_args=connect_args,
    )


def _unique_statement_name() -> str:
    return f"__asyncpg_{uuid.uuid4().hex}__"


def create_sessionmaker(
    engine: AsyncEngine, settings: Settings | None = None
) -> async_sessionmaker[AsyncSession]:
    # expire_on_commit=False: responses are built from objects after the commit.
    options: dict[str, Any] = {"expire_on_commit": False, "autoflush": False}
    if settings is not None and settings.db.pgbouncer and settings.db.statement_timeout_ms:
        options["sync_session_class"] = _session_with_timeout(settings.db.statement_timeout_ms)
    return async_sessionmaker(engine, **options)


def _session_with_timeout(milliseconds: int) -> type[Session]:
    """A Session class whose every transaction starts with SET LOCAL statement_timeout:
    the one way to bound statements that survives transaction pooling."""

    class TimedSession(Session):
        pass

    @event.listens_for(TimedSession, "after_begin")
    def _set_timeout(session: Session, transaction: SessionTransaction, connection: Connection) -> None:
        connection.exec_driver_sql(f"SET LOCAL statement_timeout = {int(milliseconds)}")

    return TimedSession


READ_METHODS = frozenset({"GET", "HEAD"})


def sessionmaker_for(request: Request) -> async_sessionmaker[AsyncSession]:
    """Reads go to the replica (app.state.read_sessionmaker is the primary's sessionmaker
    when no DATABASE_REPLICA_URL is set); everything else goes to the primary."""
    state = request.app.state
    sessions = state.read_sessionmaker if request.method in READ_METHODS else state.sessionmaker
    return cast(async_sessionmaker[AsyncSession], sessions)  # set by main.create_app


class AnonymousShare:
    """At most a share of the process's connections for requests without an API key.

    Anonymous clients are anyone: without a bound, enough of them (slow or many) would hold
    every connection, and keyed clients and the readiness probe would get none.
    """

    def __init__(self, db: DatabaseSettings):
        self.slots = db.anonymous_slots
        self.wait_seconds = db.pool_timeout
        self._semaphore = asyncio.Semaphore(self.slots)

    @asynccontextmanager
    async def held_by(self, principal: Principal) -> AsyncIterator[None]:
        if principal.scope is not None:
            yield
            return
        try:
            async with asyncio.timeout(self.wait_seconds):
                await self._semaphore.acquire()
        except TimeoutError:
            raise ServiceUnavailable(
                "All database connections are busy for requests without an API key; try again, "
                "or send an API key.",
                headers={"Retry-After": "1"},
            ) from None
        try:
            yield
        finally:
            self._semaphore.release()


async def anonymous_share(request: Request) -> AnonymousShare:
    return cast(AnonymousShare, request.app.state.anonymous_share)  # set by main.create_app


AnonymousShareDep = Annotated[AnonymousShare, Depends(anonymous_share)]


async def request_session(
    request: Request, principal: Annotated[Principal, Depends(authenticate)]
) -> AsyncIterator[AsyncSession]:
    """One session per request: committed once when the handler succeeds, else rolled back.

    Services and repositories never commit; this is the only transaction boundary of the
    HTTP layer, so a request either changes everything it meant to or nothing. Anonymous
    requests first take a place in their share of the connections.
    """
    async with request.app.state.anonymous_share.held_by(principal), sessionmaker_for(request)() as session:
        try:
            yield session
            await session.commit()
        except BaseException:
            await session.rollback()
            raise


# scope="function": the commit runs as soon as the handler returns, before the response is
# sent, so a failing commit (a deferred constraint, a lost connection) becomes the response.
SessionDep = Annotated[AsyncSession, Depends(request_session, scope="function")]

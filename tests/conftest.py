"""A real PostgreSQL for every test run, and a rolled-back transaction for every test.

The server is TEST_DATABASE_URL (or DATABASE_URL) when set, else an embedded PostgreSQL in a
temporary folder. Each run creates a scratch database on it, migrates it to head with Alembic,
and drops it at the end. Each test runs inside an outer transaction that is rolled back;
requests commit to savepoints (join_transaction_mode="create_savepoint"), so the code's own
commits and rollbacks behave as in production while tests stay isolated.
"""

import os
import tempfile
import uuid
from datetime import UTC, datetime
from pathlib import Path

import asyncpg
import httpx
import pytest
from sqlalchemy.engine import URL
from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine
from sqlalchemy.pool import NullPool

from service.access import service as access
from service.access.schemas import ApiKeyCreate
from service.config import Settings
from service.db import start_embedded, stop_embedded, to_asyncpg_url
from service.kit.clock import FixedClock
from service.main import create_app
from service.migrate import upgrade
from service.opportunities import facets


def _server_url(tmp_root: Path) -> URL:
    configured = os.environ.get("TEST_DATABASE_URL") or os.environ.get("DATABASE_URL")
    if configured:
        return to_asyncpg_url(configured)
    return start_embedded(tmp_root / "pgdata")


def _asyncpg_dsn(url: URL) -> dict:
    """asyncpg connect() keywords for a SQLAlchemy URL (host may be a socket folder)."""
    return {
        "host": url.query.get("host") or url.host,
        "port": url.port,
        "user": url.username,
        "password": url.password,
        "database": url.database,
    }


async def create_scratch_database(server: URL) -> URL:
    name = f"partnerships_test_{uuid.uuid4().hex[:12]}"
    admin = await asyncpg.connect(**_asyncpg_dsn(server))
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    return server.set(database=name)


async def drop_database(server: URL, url: URL) -> None:
    admin = await asyncpg.connect(**_asyncpg_dsn(server))
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{url.database}" WITH (FORCE)')
    finally:
        await admin.close()


@pytest.fixture(scope="session")
def server_url():
    with tempfile.TemporaryDirectory(prefix="partnerships-tests-") as tmp:
        try:
            yield _server_url(Path(tmp))
        finally:
            stop_embedded()


@pytest.fixture(scope="session")
async def database_url(server_url):
    url = await create_scratch_database(server_url)
    engine = create_async_engine(url, poolclass=NullPool)
    await upgrade(engine)
    await engine.dispose()
    yield url
    await drop_database(server_url, url)


@pytest.fixture
async def committed_database(server_url):
    """A migrated scratch database whose data is committed, for processes to share."""
    url = await create_scratch_database(server_url)
    engine = create_async_engine(url, poolclass=NullPool)
    await upgrade(engine)
    yield url, engine
    await engine.dispose()
    await drop_database(server_url, url)


@pytest.fixture(scope="session")
async def engine(database_url):
    engine = create_async_engine(database_url, pool_size=5)
    yield engine
    await engine.dispose()


@pytest.fixture
async def connection(engine):
    async with engine.connect() as connection:
        transaction = await connection.begin()
        yield connection
        await transaction.rollback()


@pytest.fixture
def sessionmaker(connection):
    return async_sessionmaker(
        bind=connection, expire_on_commit=False, autoflush=False,
        join_transaction_mode="create_savepoint",
    )


@pytest.fixture
async def session(sessionmaker):
    async with sessionmaker() as session:
        yield session


@pytest.fixture
def settings():
    return Settings(database_url="postgresql://unused/never-connected")


@pytest.fixture
def clock():
    """The app's clock, fixed; tests move it with clock.at = ..."""
    return FixedClock(datetime(2030, 1, 15, 12, 0, tzinfo=UTC))


@pytest.fixture
def app(settings, sessionmaker, clock):
    # Facet counts are remembered per process for a while; each test's data is its own.
    facets.recent_counts.clear()
    app = create_app(settings, sessionmaker=sessionmaker)
    app.state.clock = clock
    return app


async def _no_server_errors(response: httpx.Response) -> None:
    # No request may produce a 500: every test fails on one, whatever it asserts.
    if response.status_code >= 500 and response.status_code != 503:
        await response.aread()
        pytest.fail(f"{response.request.method} {response.request.url} answered {response.status_code}: {response.text}")


async def issue_key(session, scope: str = "admin", cluster: str | None = None) -> str:
    """A real API key, committed to the test's transaction."""
    created = await access.create(session, ApiKeyCreate(name=f"tests ({scope})", scope=scope, cluster=cluster))
    await session.commit()
    return created.key


@pytest.fixture
async def admin_key(session):
    return await issue_key(session, "admin")


def make_client(app, key: str | None = None) -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    return httpx.AsyncClient(
        transport=transport, base_url="http://test", headers=headers, event_hooks={"response": [_no_server_errors]}
    )


@pytest.fixture
async def client(app, admin_key):
    """A client acting with an admin key: most tests are about behaviour, not access."""
    async with make_client(app, admin_key) as client:
        yield client


@pytest.fixture
async def anonymous(app):
    async with make_client(app) as client:
        yield client

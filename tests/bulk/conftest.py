"""A second, empty database for round trips (export here, load there)."""

import pytest
from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine
from sqlalchemy.pool import NullPool

from service.main import create_app
from service.migrate import upgrade
from tests.conftest import create_scratch_database, drop_database, issue_key, make_client


@pytest.fixture(scope="session")
async def empty_database_url(server_url):
    url = await create_scratch_database(server_url)
    engine = create_async_engine(url, poolclass=NullPool)
    await upgrade(engine)
    await engine.dispose()
    yield url
    await drop_database(server_url, url)


@pytest.fixture
async def empty_client(empty_database_url, settings, clock):
    """A client of another app on an empty database, rolled back after the test."""
    engine = create_async_engine(empty_database_url, poolclass=NullPool)
    async with engine.connect() as connection:
        transaction = await connection.begin()
        sessionmaker = async_sessionmaker(
            bind=connection, expire_on_commit=False, autoflush=False, join_transaction_mode="create_savepoint"
        )
        app = create_app(settings, sessionmaker=sessionmaker)
        app.state.clock = clock
        async with sessionmaker() as session:
            key = await issue_key(session)
        async with make_client(app, key) as client:
            yield client
        await transaction.rollback()
    await engine.dispose()

"""Hot reads on the driver (kit/driver): in the session's transaction, and a lost connection
is not handed out again."""

import asyncpg
import pytest
from sqlalchemy import bindparam, column, select, table
from sqlalchemy.ext.asyncio import AsyncSession, create_async_engine

from service.kit.driver import LOST, CompiledStatement, driver_connection, fetch
from tests.conftest import _asyncpg_dsn


@pytest.fixture
async def engine(live_database):
    engine = create_async_engine(live_database, pool_size=1, max_overflow=0)
    yield engine
    await engine.dispose()


async def test_a_driver_read_runs_in_the_sessions_transaction_and_ends_with_it(engine):
    async with AsyncSession(engine) as session:
        raw = await driver_connection(session)
        assert raw.is_in_transaction()
        await raw.execute("SET LOCAL plan_cache_mode = force_custom_plan")
        assert await raw.fetchval("SHOW plan_cache_mode") == "force_custom_plan"
        await session.commit()
        assert not raw.is_in_transaction()
        assert await raw.fetchval("SHOW plan_cache_mode") == "auto"  # SET LOCAL ended with it


async def test_a_connection_lost_under_a_driver_read_is_not_reused(engine, live_database):
    one = CompiledStatement(select(column("x")).select_from(table("t")).where(column("x") == 1).limit(1))
    async with AsyncSession(engine) as session:
        raw = await driver_connection(session)
        admin = await asyncpg.connect(**_asyncpg_dsn(live_database))
        try:
            await admin.execute("SELECT pg_terminate_backend($1)", raw.get_server_pid())
        finally:
            await admin.close()
        with pytest.raises((asyncpg.PostgresError, *LOST)):
            await fetch(session, one, {})
        assert (await session.connection()).invalidated
    async with AsyncSession(engine) as session:  # the pool's one connection is a new one
        assert (await (await driver_connection(session)).fetchval("SELECT 1")) == 1


def test_statements_with_expanding_parameters_are_refused():
    with pytest.raises(ValueError, match="expanding"):
        CompiledStatement(select(column("x")).where(column("x").in_([1, 2])))


def test_parameters_are_ordered_as_the_sql_numbers_them():
    statement = CompiledStatement(select(column("x")).where(column("y") > bindparam("low"), column("x") < bindparam("high")))
    assert statement.arguments({"high": 9, "low": 1}) == [1, 9]

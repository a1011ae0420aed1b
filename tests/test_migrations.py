"""Migrations: head matches the models exactly, and every step can be undone and redone."""

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool

from service.migrate import described_by_models, downgrade, is_current, upgrade
from service.models import Base
from tests.conftest import create_scratch_database, drop_database


def _differences(connection) -> list:
    return compare_metadata(MigrationContext.configure(connection, opts={"compare_type": True, "include_object": described_by_models}), Base.metadata)


async def _tables(engine) -> set[str]:
    async with engine.connect() as connection:
        rows = await connection.execute(text("SELECT tablename FROM pg_tables WHERE schemaname = 'public'"))
        return {r[0] for r in rows}


async def test_upgrade_autogenerate_downgrade_upgrade(server_url):
    url = await create_scratch_database(server_url)
    engine = create_async_engine(url, poolclass=NullPool)
    try:
        assert not await is_current(engine)
        await upgrade(engine)
        assert await is_current(engine)
        async with engine.connect() as connection:
            assert await connection.run_sync(_differences) == []
            sectors = await connection.scalar(text("SELECT count(*) FROM sectors"))
            assert sectors >= 10

        await downgrade(engine, "base")
        assert await _tables(engine) == {"alembic_version"}
        async with engine.connect() as connection:
            assert await connection.scalar(text("SELECT count(*) FROM pg_proc WHERE proname = 'search_fold'")) == 0

        await upgrade(engine)
        assert await is_current(engine)
        async with engine.connect() as connection:
            assert await connection.run_sync(_differences) == []
            folded = await connection.scalar(text("SELECT search_fold('Coopération Łódź Straße Ærø')"))
            assert folded == "cooperation lodz strasse aero"
    finally:
        await engine.dispose()
        await drop_database(server_url, url)


async def test_existing_bound_admin_keys_are_unbound(server_url):
    """Admin keys always ignored their binding; the revision that forbids one drops it."""
    url = await create_scratch_database(server_url)
    engine = create_async_engine(url, poolclass=NullPool)
    try:
        await upgrade(engine, "0005")
        async with engine.begin() as connection:
            cluster = await connection.scalar(text(
                "INSERT INTO clusters (id, slug, name, country) VALUES (gen_random_uuid(), 'alpha', 'Alpha', 'FR') RETURNING id"))
            for scope in ("admin", "write"):
                await connection.execute(text(
                    "INSERT INTO api_keys (id, prefix, secret_hash, name, scope, cluster_id) "
                    "VALUES (gen_random_uuid(), :prefix, '\\x00', 'old', :scope, :cluster)"),
                    {"prefix": scope, "scope": scope, "cluster": cluster})
        await upgrade(engine)
        async with engine.connect() as connection:
            bindings = dict((await connection.execute(text("SELECT scope, cluster_id FROM api_keys"))).all())
        assert bindings == {"admin": None, "write": cluster}
    finally:
        await engine.dispose()
        await drop_database(server_url, url)

"""Applying the Alembic migrations from code (the CLI, the app's tests)."""

from importlib.resources import files

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, text
from sqlalchemy.engine import URL
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

# Held for the migration transaction: replicas starting together against a new database
# take turns instead of racing to create the same tables.
MIGRATION_LOCK_ID = 7_326_482_001


def described_by_models(obj: object, name: str | None, type_: str, reflected: bool, compare_to: object) -> bool:
    """Whether autogenerate compares an object with the models: not Alembic's own table, nor
    the task queue's tables, which procrastinate's schema (applied by migration 0009) owns."""
    if type_ != "table" or name is None:
        return True
    return name != "alembic_version" and not name.startswith("procrastinate_")


def alembic_config(url: URL | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(files("service.migrations")))
    if url is not None:
        # render_as_string keeps the password; % must be escaped for ConfigParser.
        config.set_main_option("sqlalchemy.url", url.render_as_string(hide_password=False).replace("%", "%%"))
    return config


def _upgrade(connection: Connection, revision: str) -> None:
    config = alembic_config()
    config.attributes["connection"] = connection
    command.upgrade(config, revision)


def _downgrade(connection: Connection, revision: str) -> None:
    config = alembic_config()
    config.attributes["connection"] = connection
    command.downgrade(config, revision)


async def upgrade(engine: AsyncEngine, revision: str = "head") -> None:
    async with engine.begin() as connection:
        await connection.execute(text("SELECT pg_advisory_xact_lock(:id)"), {"id": MIGRATION_LOCK_ID})
        await connection.run_sync(_upgrade, revision)


async def downgrade(engine: AsyncEngine, revision: str) -> None:
    async with engine.begin() as connection:
        await connection.run_sync(_downgrade, revision)


def _current_heads(connection: Connection) -> tuple[set[str], set[str]]:
    from alembic.runtime.migration import MigrationContext
    from alembic.script import ScriptDirectory

    current = set(MigrationContext.configure(connection).get_current_heads())
    expected = set(ScriptDirectory.from_config(alembic_config()).get_heads())
    return current, expected


async def is_current(engine: AsyncEngine) -> bool:
    """Whether the database is migrated to the code's head revision."""
    async with engine.connect() as connection:
        return await is_current_on(connection)


async def is_current_on(connection: AsyncConnection) -> bool:
    current, expected = await connection.run_sync(_current_heads)
    return current == expected

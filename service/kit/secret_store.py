"""All SQL about the service's own secrets (service_secrets)."""

import secrets

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from service.models import ServiceSecret

KEY_BYTES = 32


async def _read(session: AsyncSession, name: str) -> bytes | None:
    return await session.scalar(select(ServiceSecret.value).where(ServiceSecret.name == name))


async def shared_secret(
    reads: async_sessionmaker[AsyncSession], writes: async_sessionmaker[AsyncSession], name: str
) -> bytes:
    """The secret called name, generated on first use. Replicas starting together may each
    propose one: the first insert wins and everyone reads the winner back."""
    async with reads() as session:
        value = await _read(session, name)
    if value is not None:
        return value
    async with writes() as session:
        proposal = secrets.token_bytes(KEY_BYTES)
        await session.execute(insert(ServiceSecret).values(name=name, value=proposal).on_conflict_do_nothing())
        value = await _read(session, name)
        await session.commit()
    if value is None:  # ours or a concurrent insert just made the row
        raise RuntimeError(f"the secret {name!r} is missing right after it was stored")
    return value

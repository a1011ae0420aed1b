"""All SQL about API keys."""

import uuid
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from service.models import ApiKey, Cluster


async def by_prefix(session: AsyncSession, prefix: str) -> ApiKey | None:
    return (await session.scalars(select(ApiKey).where(ApiKey.prefix == prefix))).one_or_none()


async def get(session: AsyncSession, key_id: uuid.UUID, *, for_update: bool = False) -> ApiKey | None:
    stmt = select(ApiKey).where(ApiKey.id == key_id)
    if for_update:
        stmt = stmt.with_for_update()
    return (await session.scalars(stmt)).one_or_none()


async def listing(session: AsyncSession, include_revoked: bool) -> list[ApiKey]:
    stmt = select(ApiKey).order_by(ApiKey.created_at, ApiKey.id)
    if not include_revoked:
        stmt = stmt.where(ApiKey.revoked_at.is_(None))
    return list(await session.scalars(stmt))


async def cluster_id(session: AsyncSession, slug: str) -> uuid.UUID | None:
    """The cluster a key is bound to, by the slug its issuer gave."""
    return await session.scalar(select(Cluster.id).where(Cluster.slug == slug))


async def cluster_slugs(session: AsyncSession, ids: set[uuid.UUID]) -> dict[uuid.UUID, str]:
    """The slugs of the clusters keys are bound to, to show beside the keys."""
    if not ids:
        return {}
    return {cid: slug for cid, slug in await session.execute(select(Cluster.id, Cluster.slug).where(Cluster.id.in_(ids)))}


def revoke(key: ApiKey, at: datetime) -> None:
    if key.revoked_at is None:
        key.revoked_at = at

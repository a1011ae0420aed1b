"""Issuing, listing and revoking API keys. Never commits: the caller does."""

import uuid
from collections.abc import Mapping
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from service.access import keys, repository
from service.access.schemas import ApiKeyCreate, ApiKeyCreated, ApiKeyInfo
from service.errors import InvalidInput
from service.kit.clock import Clock
from service.kit.repository import not_found
from service.models import ApiKey


def _info(row: ApiKey, slugs: Mapping[uuid.UUID, str]) -> dict[str, Any]:
    return {
        "id": row.id, "prefix": row.prefix, "name": row.name, "scope": row.scope,
        "cluster": slugs.get(row.cluster_id) if row.cluster_id else None, "created_at": row.created_at, "revoked_at": row.revoked_at,
    }


async def create(session: AsyncSession, data: ApiKeyCreate) -> ApiKeyCreated:
    cluster_id = None
    slugs: dict[uuid.UUID, str] = {}
    if data.cluster:
        cluster_id = await repository.cluster_id(session, data.cluster)
        if cluster_id is None:
            raise InvalidInput.field("body.cluster", f"there is no cluster '{data.cluster}'")
        slugs[cluster_id] = data.cluster
    key, prefix, digest = keys.new_key()
    row = ApiKey(prefix=prefix, secret_hash=digest, name=data.name, scope=data.scope, cluster_id=cluster_id)
    session.add(row)
    await session.flush()
    await session.refresh(row)
    return ApiKeyCreated(**_info(row, slugs), key=key)


async def listing(session: AsyncSession, include_revoked: bool = False) -> list[ApiKeyInfo]:
    rows = await repository.listing(session, include_revoked)
    slugs = await repository.cluster_slugs(session, {r.cluster_id for r in rows if r.cluster_id})
    return [ApiKeyInfo(**_info(r, slugs)) for r in rows]


async def revoke(session: AsyncSession, ref: str, clock: Clock) -> None:
    """Revoke by id or by prefix."""
    row = None
    try:
        row = await repository.get(session, uuid.UUID(ref), for_update=True)
    except ValueError:
        found = await repository.by_prefix(session, ref)
        row = found and await repository.get(session, found.id, for_update=True)
    if row is None:
        raise not_found("API key", ref)
    repository.revoke(row, clock.now())
    await session.flush()

"""Rules about clusters. Never commits: the request boundary does."""

from typing import TYPE_CHECKING, Any

from sqlalchemy.ext.asyncio import AsyncSession

from service.access.principal import Write
from service.clusters import repository
from service.clusters.schemas import Cluster, ClusterCreate, ClusterPatch, ClusterQuery
from service.events import service as events
from service.kit.lookup import flush
from service.kit.pagination import Page, parse_sort, sortable
from service.kit.patching import merge
from service.kit.repository import not_found, or_404
from service.models import Cluster as ClusterRow
from service.sectors.service import ensure_known

DEFAULT_SORT = "name"
# The list query as routes take it: `sort` is the enum of the repository's sort fields, added
# at run time, so a type checker sees the query it extends.
if TYPE_CHECKING:
    ClusterListQuery = ClusterQuery
else:
    ClusterListQuery = sortable(ClusterQuery, repository.SORTS, DEFAULT_SORT)


def _columns(data: ClusterCreate) -> dict[str, Any]:
    values = data.model_dump(exclude={"region"})
    region = data.region
    values |= {
        "region_code": region.code if region else None,
        "region_name": region.name if region else None,
        "nuts_version": region.nuts_version if region else None,
    }
    return values


def as_input(cluster: Cluster) -> dict[str, Any]:
    """The current state in the shape a create accepts (for merging a PATCH)."""
    return cluster.model_dump(include=set(ClusterCreate.model_fields))


async def _get_row(session: AsyncSession, ref: str, *, for_update: bool = False) -> ClusterRow:
    return await or_404(repository.get(session, ref, for_update=for_update), "cluster", ref)


async def get(session: AsyncSession, ref: str) -> Cluster:
    return Cluster.model_validate(await _get_row(session, ref))


async def list_page(session: AsyncSession, query: ClusterQuery) -> Page[Cluster]:
    sort = parse_sort(query.sort, repository.SORTS, default=DEFAULT_SORT)
    rows, cursor = await repository.page(session, query, sort)
    return Page[Cluster](items=[Cluster.model_validate(r) for r in rows], next_cursor=cursor)


async def _save(session: AsyncSession, row: ClusterRow, slug: str) -> Cluster:
    await flush(session, duplicate=f"A cluster with slug '{slug}' already exists.")
    await session.refresh(row)
    return Cluster.model_validate(row)


async def create(session: AsyncSession, data: ClusterCreate, write: Write) -> Cluster:
    write.principal.unbound_only("create clusters")
    await ensure_known(session, data.sectors)
    row = ClusterRow(**_columns(data))
    session.add(row)
    created = await _save(session, row, data.slug)
    await events.record(session, "cluster.created", created, version=row.version)
    return created


async def update(session: AsyncSession, ref: str, patch: ClusterPatch, write: Write) -> Cluster:
    row = await _get_row(session, ref, for_update=True)
    current = Cluster.model_validate(row)
    write.check(current, [row.id], not_found("cluster", ref))
    merged = merge(ClusterCreate, as_input(current), patch)
    await ensure_known(session, merged.sectors)
    for column, value in _columns(merged).items():
        setattr(row, column, value)
    updated = await _save(session, row, merged.slug)
    if updated != current:
        await events.record(session, "cluster.updated", updated, version=row.version)
    return updated


async def delete(session: AsyncSession, ref: str, write: Write) -> None:
    row = await _get_row(session, ref, for_update=True)
    current = Cluster.model_validate(row)
    write.check(current, [row.id], not_found("cluster", ref))
    await session.delete(row)
    await flush(
        session,
        referenced=f"Cluster '{row.slug}' is still referenced (a partnership member, a mission organiser...); remove those links first.",
    )
    await events.record(session, "cluster.deleted", current, version=row.version)

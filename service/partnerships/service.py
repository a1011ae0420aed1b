"""Rules about partnerships and their membership. Never commits: the request boundary does."""

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any
from uuid import UUID

from sqlalchemy.ext.asyncio import AsyncSession

from service.access.principal import Write
from service.errors import Conflict, FieldError, InvalidInput, NotFound
from service.events import service as events
from service.kit.lookup import flush, resolve
from service.kit.pagination import Page, parse_sort, sortable
from service.kit.patching import merge
from service.kit.repository import not_found, or_404
from service.models import Cluster, PartnershipMember
from service.models import Partnership as PartnershipRow
from service.partnerships import repository
from service.partnerships.schemas import (
    Member,
    MemberIn,
    MemberPatch,
    Partnership,
    PartnershipCreate,
    PartnershipPatch,
    PartnershipQuery,
)
from service.sectors.service import ensure_known

DEFAULT_SORT = "acronym"
# The list query as routes take it: `sort` is the enum of the repository's sort fields, added
# at run time, so a type checker sees the query it extends.
if TYPE_CHECKING:
    PartnershipListQuery = PartnershipQuery
else:
    PartnershipListQuery = sortable(PartnershipQuery, repository.SORTS, DEFAULT_SORT)


def as_input(partnership: Partnership) -> dict[str, Any]:
    """The current state in the shape a create accepts (for merging a PATCH)."""
    data = partnership.model_dump(include=set(PartnershipCreate.model_fields) - {"members"})
    data["members"] = [{"cluster": m.cluster.slug, "role": m.role} for m in partnership.members]
    return data


async def _get_row(session: AsyncSession, ref: str, *, for_update: bool = False) -> PartnershipRow:
    return await or_404(repository.get(session, ref, for_update=for_update), "partnership", ref)


async def _reloaded(session: AsyncSession, row: PartnershipRow) -> Partnership:
    return Partnership.model_validate(await repository.get(session, str(row.id)))


async def get(session: AsyncSession, ref: str) -> Partnership:
    return Partnership.model_validate(await _get_row(session, ref))


async def list_page(session: AsyncSession, query: PartnershipQuery) -> Page[Partnership]:
    sort = parse_sort(query.sort, repository.SORTS, default=DEFAULT_SORT)
    rows, cursor = await repository.page(session, query, sort)
    return Page[Partnership](items=[Partnership.model_validate(r) for r in rows], next_cursor=cursor)


async def _resolve_members(session: AsyncSession, members: list[MemberIn]) -> list[tuple[UUID, str]]:
    """(cluster id, role) for the requested members; unknown clusters are a 422 naming them."""
    refs = [m.cluster for m in members]
    found = await resolve(session, Cluster, refs)
    errors = [
        FieldError(location=f"body.members.{i}.cluster", message=f"there is no cluster '{ref}'")
        for i, ref in enumerate(refs) if ref not in found
    ]
    if errors:
        raise InvalidInput("Some members are unknown clusters.", errors=errors)
    pairs: list[tuple[UUID, str]] = [(found[m.cluster].id, m.role) for m in members]
    if len({cluster_id for cluster_id, _ in pairs}) != len(pairs):
        raise InvalidInput.field("body.members", "a cluster can be a member only once")
    return pairs


def _set_members(row: PartnershipRow, pairs: list[tuple[UUID, str]]) -> bool:
    """Make the membership exactly pairs, keeping rows (and joined_at) of those who stay.
    Returns whether anything changed."""
    before = [(m.cluster_id, m.role) for m in row.members]
    existing = {m.cluster_id: m for m in row.members}
    members = []
    for cluster_id, role in pairs:
        member = existing.get(cluster_id) or PartnershipMember(cluster_id=cluster_id)
        member.role = role
        members.append(member)
    row.members = members
    return sorted(before) != sorted(pairs)


def _apply(row: PartnershipRow, data: PartnershipCreate) -> None:
    for field, value in data.model_dump(exclude={"members"}).items():
        setattr(row, field, value)


def _coordinators(pairs: list[tuple[UUID, str]]) -> list[UUID]:
    """Who owns a partnership: its coordinating clusters."""
    return [cluster_id for cluster_id, role in pairs if role == "coordinator"]


async def create(session: AsyncSession, data: PartnershipCreate, write: Write) -> Partnership:
    await ensure_known(session, data.sectors)
    pairs = await _resolve_members(session, data.members)
    write.principal.may_create("partnerships (as coordinator)", _coordinators(pairs))
    write.principal.leaves_others_as_they_stand([], _coordinators(pairs), "a coordinator")
    row = PartnershipRow()
    _apply(row, data)
    _set_members(row, pairs)
    session.add(row)
    await flush(session, duplicate=f"A partnership with slug '{data.slug}' already exists.")
    created = await _reloaded(session, row)
    await events.record(session, "partnership.created", created, version=row.version)
    return created


async def update(session: AsyncSession, ref: str, patch: PartnershipPatch, write: Write) -> Partnership:
    row = await _get_row(session, ref, for_update=True)
    current = Partnership.model_validate(row)
    write.check(current, _coordinators(_pairs(current)), not_found("partnership", ref))
    merged = merge(PartnershipCreate, as_input(current), patch)
    await ensure_known(session, merged.sectors)
    pairs = await _resolve_members(session, merged.members)
    write.principal.keeps(_coordinators(pairs), "the partnership")
    write.principal.leaves_others_as_they_stand(_coordinators(_pairs(current)), _coordinators(pairs), "a coordinator")
    _apply(row, merged)
    if _set_members(row, pairs):
        repository.touch(row)  # a membership change is a change of the partnership
    await flush(session, duplicate=f"A partnership with slug '{merged.slug}' already exists.")
    return await _recorded_update(session, row, current)


async def delete(session: AsyncSession, ref: str, write: Write) -> None:
    row = await _get_row(session, ref, for_update=True)
    current = Partnership.model_validate(row)
    write.check(current, _coordinators(_pairs(current)), not_found("partnership", ref))
    await session.delete(row)
    await flush(session, referenced=f"Partnership '{row.slug}' is still referenced; remove those links first.")
    await events.record(session, "partnership.deleted", current, version=row.version)


async def _recorded_update(session: AsyncSession, row: PartnershipRow, before: Partnership) -> Partnership:
    """The partnership after a change, its event written if anything changed."""
    after = await _reloaded(session, row)
    if after != before:
        await events.record(session, "partnership.updated", after, version=row.version)
    return after


# Members -------------------------------------------------------------------------------


def _member(partnership: Partnership, cluster_ref: str) -> Member:
    for member in partnership.members:
        if cluster_ref in (member.cluster.slug, str(member.cluster.id)):
            return member
    raise NotFound(f"Cluster '{cluster_ref}' is not a member of partnership '{partnership.slug}'.")


async def list_members(session: AsyncSession, ref: str) -> Page[Member]:
    return Page[Member](items=(await get(session, ref)).members, next_cursor=None)


async def get_member(session: AsyncSession, ref: str, cluster_ref: str) -> Member:
    return _member(await get(session, ref), cluster_ref)


async def _change_members(
    session: AsyncSession, ref: str, write: Write, members_after: Callable[[Partnership], Awaitable[list[tuple[UUID, str]]]]
) -> Partnership:
    """Apply a change to the member list of a locked partnership (its coordinators' to make).
    members_after(current) returns the new [(cluster id, role)] list."""
    row = await _get_row(session, ref, for_update=True)
    current = Partnership.model_validate(row)
    write.check(current, _coordinators(_pairs(current)), not_found("partnership", ref))
    pairs = await members_after(current)
    write.principal.keeps(_coordinators(pairs), "the partnership")
    write.principal.leaves_others_as_they_stand(_coordinators(_pairs(current)), _coordinators(pairs), "a coordinator")
    if _set_members(row, pairs):
        repository.touch(row)
    await flush(session)
    return await _recorded_update(session, row, current)


def _pairs(partnership: Partnership) -> list[tuple[UUID, str]]:
    return [(m.cluster.id, m.role) for m in partnership.members]


async def add_member(session: AsyncSession, ref: str, data: MemberIn, write: Write) -> Member:
    async def with_new(current: Partnership) -> list[tuple[UUID, str]]:
        (new,) = await _resolve_members(session, [data])
        if any(cluster_id == new[0] for cluster_id, _ in _pairs(current)):
            raise Conflict(f"Cluster '{data.cluster}' is already a member of '{current.slug}'.")
        return _pairs(current) + [new]

    partnership = await _change_members(session, ref, write, with_new)
    return _member(partnership, data.cluster)


async def update_member(
    session: AsyncSession, ref: str, cluster_ref: str, data: MemberPatch, write: Write
) -> Member:
    async def with_role(current: Partnership) -> list[tuple[UUID, str]]:
        target = _member(current, cluster_ref).cluster.id
        return [(cid, data.role if cid == target else role) for cid, role in _pairs(current)]

    return _member(await _change_members(session, ref, write, with_role), cluster_ref)


async def remove_member(session: AsyncSession, ref: str, cluster_ref: str, write: Write) -> None:
    async def without(current: Partnership) -> list[tuple[UUID, str]]:
        target = _member(current, cluster_ref).cluster.id
        return [(cid, role) for cid, role in _pairs(current) if cid != target]

    await _change_members(session, ref, write, without)

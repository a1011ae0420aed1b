"""Rules about cooperation agreements. Never commits: the request boundary does."""

import uuid
from datetime import date
from typing import TYPE_CHECKING, Any

from sqlalchemy.ext.asyncio import AsyncSession

from service.access.principal import Write
from service.agreements import repository
from service.agreements.schemas import Agreement, AgreementCreate, AgreementPatch, AgreementQuery
from service.errors import InvalidInput
from service.events import service as events
from service.kit.lookup import flush, resolve, unknown_references
from service.kit.pagination import Page, parse_sort, sortable
from service.kit.patching import merge
from service.kit.repository import id_or_404, not_found, or_404
from service.models import Agreement as AgreementRow
from service.models import AgreementParty, Cluster, Partnership
from service.sectors.service import ensure_known

KIND = "agreement"
DEFAULT_SORT = "-signed_on"
# The list query as routes take it: `sort` is the enum of the repository's sort fields, added
# at run time, so a type checker sees the query it extends.
if TYPE_CHECKING:
    AgreementListQuery = AgreementQuery
else:
    AgreementListQuery = sortable(AgreementQuery, repository.SORTS, DEFAULT_SORT)


def to_schema(row: AgreementRow, status: str) -> Agreement:
    return Agreement.model_validate({
        **{name: getattr(row, name) for name in Agreement.model_fields if name not in ("clusters", "status")},
        "status": status,
        "clusters": [party.cluster for party in row.parties],
    })


def as_input(agreement: Agreement) -> dict[str, Any]:
    """The current state in the shape a create accepts (for merging a PATCH)."""
    data = agreement.model_dump(include=set(AgreementCreate.model_fields) - {"clusters", "partnership", "mission", "status"})
    data["status"] = "signed" if agreement.status == "expired" else agreement.status
    data["clusters"] = [c.slug for c in agreement.clusters]
    data["partnership"] = agreement.partnership.slug if agreement.partnership else None
    data["mission"] = str(agreement.mission.id) if agreement.mission else None
    return data


async def _get(session: AsyncSession, ref: str, today: date, *, for_update: bool = False) -> repository.AgreementWithStatus:
    """(agreement, status); agreements are known by id only."""
    found = repository.get(session, id_or_404(ref, KIND), today, for_update=for_update)
    return await or_404(found, KIND, ref)


async def get(session: AsyncSession, ref: str, today: date) -> Agreement:
    return to_schema(*await _get(session, ref, today))


async def list_page(session: AsyncSession, query: AgreementQuery, today: date) -> Page[Agreement]:
    sort = parse_sort(query.sort, repository.SORTS, default=DEFAULT_SORT)
    rows, cursor = await repository.page(session, query, sort, today)
    return Page[Agreement](items=[to_schema(r.Agreement, r.status) for r in rows], next_cursor=cursor)


async def _mission_id(session: AsyncSession, ref: str | None) -> uuid.UUID | None:
    """A mission by id or external_id."""
    if ref is None:
        return None
    found = await repository.mission_id(session, ref)
    if found is None:
        raise InvalidInput.field("body.mission", f"there is no mission '{ref}'")
    return found


async def _apply(session: AsyncSession, row: AgreementRow, data: AgreementCreate, write: Write, what: str) -> None:
    """Copy a validated agreement onto its row; a bound key must stay among its parties."""
    await ensure_known(session, data.sectors)
    clusters = await resolve(session, Cluster, data.clusters)
    errors = unknown_references(data.clusters, clusters, "body.clusters", "cluster")
    if errors:
        raise InvalidInput("Some parties are unknown clusters.", errors=errors)
    parties = [clusters[r].id for r in data.clusters]
    if what == "create":
        write.principal.may_create("agreements (as a party)", parties)
    else:
        write.principal.keeps(parties, "the agreement")
    write.principal.leaves_others_as_they_stand([p.cluster_id for p in row.parties], parties, "a party")
    partnership_id = None
    if data.partnership:
        found = await resolve(session, Partnership, [data.partnership])
        if not found:
            raise InvalidInput.field("body.partnership", f"there is no partnership '{data.partnership}'")
        partnership_id = found[data.partnership].id
    values = data.model_dump(exclude={"clusters", "partnership", "mission"}, mode="json")
    values |= {"signed_on": data.signed_on, "valid_until": data.valid_until}
    for field, value in values.items():
        setattr(row, field, value)
    row.partnership_id = partnership_id
    row.mission_id = await _mission_id(session, data.mission)
    cluster_ids = list(dict.fromkeys(clusters[r].id for r in data.clusters))
    if [p.cluster_id for p in row.parties] != cluster_ids:
        row.parties = [AgreementParty(cluster_id=c, position=i) for i, c in enumerate(cluster_ids)]
        await flush(session)  # the old party rows go before their replacements come


async def _reloaded(session: AsyncSession, agreement_id: uuid.UUID, today: date) -> Agreement:
    row, status = await or_404(repository.get(session, agreement_id, today), KIND, str(agreement_id))
    return to_schema(row, status)


def _duplicate(data: AgreementCreate) -> str:
    return f"An agreement with external_id '{data.external_id}' already exists."


async def create(session: AsyncSession, data: AgreementCreate, today: date, write: Write) -> Agreement:
    row = AgreementRow(parties=[])
    await _apply(session, row, data, write, "create")
    session.add(row)
    await flush(session, duplicate=_duplicate(data))
    created = await _reloaded(session, row.id, today)
    await events.record(session, "agreement.created", created, version=row.version)
    return created


async def update(
    session: AsyncSession, ref: str, patch: AgreementPatch, write: Write, today: date
) -> Agreement:
    row, status = await _get(session, ref, today, for_update=True)
    current = to_schema(row, status)
    write.check(current, [p.cluster_id for p in row.parties], not_found(KIND, ref))
    data = merge(AgreementCreate, as_input(current), patch)
    await _apply(session, row, data, write, "update")
    await flush(session, duplicate=_duplicate(data))
    updated = await _reloaded(session, row.id, today)
    if updated != current:
        await events.record(session, "agreement.updated", updated, version=row.version)
    return updated


async def delete(session: AsyncSession, ref: str, write: Write, today: date) -> None:
    row, status = await _get(session, ref, today, for_update=True)
    current = to_schema(row, status)
    write.check(current, [p.cluster_id for p in row.parties], not_found(KIND, ref))
    await session.delete(row)
    await flush(session)
    await events.record(session, "agreement.deleted", current, version=row.version)

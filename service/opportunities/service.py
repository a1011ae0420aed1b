"""Rules about posted opportunities. Never commits: the request boundary does."""

import uuid
from collections.abc import Mapping
from datetime import date
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from service.access.principal import Write
from service.clusters.schemas import ClusterRefOut
from service.errors import InvalidInput
from service.events import service as events
from service.kit.lookup import flush, resolve
from service.kit.patching import merge
from service.kit.repository import id_or_404, not_found, or_404
from service.missions.schemas import PartnershipRefOut
from service.models import Cluster, Partnership
from service.models import Opportunity as OpportunityRow
from service.opportunities import repository
from service.opportunities.schemas import Opportunity, OpportunityCreate, OpportunityPatch, OrganisationOut, Poster
from service.sectors.service import ensure_known


def to_schema(row: OpportunityRow, status: str) -> Opportunity:
    poster = {
        "cluster": row.posted_by_cluster,
        "partnership": row.posted_by_partnership,
        "organisation": {"name": row.poster_name, "url": row.poster_url} if row.poster_name else None,
    }
    fields = {name: getattr(row, name) for name in Opportunity.model_fields if hasattr(row, name)}
    return Opportunity.model_validate(fields | {"posted_by": poster, "status": status})


def as_input(opportunity: Opportunity) -> dict[str, Any]:
    """The current state in the shape a create accepts (for merging a PATCH)."""
    data = opportunity.model_dump(include=set(OpportunityCreate.model_fields) - {"posted_by"})
    poster = opportunity.posted_by
    if poster.cluster:
        data["posted_by"] = {"cluster": poster.cluster.slug}
    elif poster.partnership:
        data["posted_by"] = {"partnership": poster.partnership.slug}
    elif poster.organisation:
        data["posted_by"] = {"organisation": poster.organisation.model_dump()}
    return data


KIND = "opportunity"


async def _get(
    session: AsyncSession, ref: str, today: date, *, for_update: bool = False
) -> repository.OpportunityWithStatus:
    """(opportunity, status); opportunities are known by id only."""
    found = repository.get(session, id_or_404(ref, KIND), today, for_update=for_update)
    return await or_404(found, KIND, ref)


def _from_record(row: Mapping[str, Any]) -> Opportunity:
    """An Opportunity from repository.read's row, built without validation: every value comes
    from typed columns, and validating them again cost more than the query."""
    cluster = partnership = organisation = None
    if row["cluster_id"] is not None:
        cluster = ClusterRefOut.model_construct(
            id=row["cluster_id"], slug=row["cluster_slug"], name=row["cluster_name"], acronym=row["cluster_acronym"],
            country=row["cluster_country"],
        )
    if row["partnership_id"] is not None:
        partnership = PartnershipRefOut.model_construct(
            id=row["partnership_id"], slug=row["partnership_slug"], acronym=row["partnership_acronym"],
            name=row["partnership_name"],
        )
    if row["poster_name"]:
        organisation = OrganisationOut.model_construct(name=row["poster_name"], url=row["poster_url"])
    fields = {name: row[name] for name in Opportunity.model_fields if name != "posted_by"}
    poster = Poster.model_construct(cluster=cluster, partnership=partnership, organisation=organisation)
    return Opportunity.model_construct(**fields, posted_by=poster)


async def get(session: AsyncSession, ref: str, today: date) -> Opportunity:
    row = await repository.read(session, id_or_404(ref, KIND), today)
    if row is None:
        raise not_found(KIND, ref)
    return _from_record(row)


async def _reloaded(session: AsyncSession, opportunity_id: uuid.UUID, today: date) -> Opportunity:
    row, status = await or_404(repository.get(session, opportunity_id, today), KIND, str(opportunity_id))
    return to_schema(row, status)


def _poster(row: OpportunityRow) -> list[uuid.UUID]:
    """Who owns an opportunity: the cluster that posted it."""
    return [row.posted_by_cluster_id] if row.posted_by_cluster_id else []


async def _apply(session: AsyncSession, row: OpportunityRow, data: OpportunityCreate) -> None:
    await ensure_known(session, data.sectors)
    poster = data.posted_by
    row.posted_by_cluster_id = row.posted_by_partnership_id = row.poster_name = row.poster_url = None
    for model, ref, column in ((Cluster, poster.cluster, "posted_by_cluster_id"), (Partnership, poster.partnership, "posted_by_partnership_id")):
        if ref is not None:
            found = await resolve(session, model, [ref])
            if not found:
                what = model.__tablename__.rstrip("s")
                raise InvalidInput.field(f"body.posted_by.{what}", f"there is no {what} '{ref}'")
            setattr(row, column, found[ref].id)
    if poster.organisation:
        row.poster_name, row.poster_url = poster.organisation.name, poster.organisation.url
    for field, value in data.model_dump(exclude={"posted_by"}).items():
        setattr(row, field, value)


def _duplicate(data: OpportunityCreate) -> str:
    return f"An opportunity with external_id '{data.external_id}' already exists."


async def create(session: AsyncSession, data: OpportunityCreate, today: date, write: Write) -> Opportunity:
    row = OpportunityRow()
    await _apply(session, row, data)
    write.principal.may_create("opportunities (as their poster)", _poster(row))
    session.add(row)
    await flush(session, duplicate=_duplicate(data))
    created = await _reloaded(session, row.id, today)
    await events.record(session, "opportunity.created", created, version=row.version)
    return created


async def update(
    session: AsyncSession, ref: str, patch: OpportunityPatch, write: Write, today: date
) -> Opportunity:
    row, status = await _get(session, ref, today, for_update=True)
    current = to_schema(row, status)
    write.check(current, _poster(row), not_found(KIND, ref))
    data = merge(OpportunityCreate, as_input(current), patch)
    await _apply(session, row, data)
    write.principal.keeps(_poster(row), "the opportunity")
    await flush(session, duplicate=_duplicate(data))
    updated = await _reloaded(session, row.id, today)
    if updated != current:
        await events.record(session, "opportunity.updated", updated, version=row.version)
    return updated


async def delete(session: AsyncSession, ref: str, write: Write, today: date) -> None:
    row, status = await _get(session, ref, today, for_update=True)
    current = to_schema(row, status)
    write.check(current, _poster(row), not_found(KIND, ref))
    await session.delete(row)
    await flush(session)
    await events.record(session, "opportunity.deleted", current, version=row.version)

"""Rules about expressions of interest. Never commits: the request boundary does.

Who is who: the poster of an opportunity is its posting cluster, or a coordinator of its
posting partnership; the sender is the interested cluster. Admin keys and unbound write keys
act for any cluster, so they see and may answer every interest. A bound key of any other
cluster sees none: it learns only the counts, which are public.
"""

import uuid
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING

from sqlalchemy.ext.asyncio import AsyncSession

from service.access.principal import Principal, Write
from service.errors import Conflict, Forbidden, InvalidInput
from service.events import service as events
from service.events.schemas import EventType
from service.interests import repository
from service.interests.schemas import (
    Interest,
    InterestCreate,
    InterestEvent,
    InterestPatch,
    InterestQuery,
    InterestStatus,
    InterestSummary,
    OpportunityFunnel,
)
from service.kit.lookup import flush, resolve
from service.kit.pagination import Page, parse_sort, sortable
from service.kit.repository import id_or_404, not_found
from service.models import Cluster, Opportunity
from service.models import Interest as InterestRow
from service.opportunities import repository as opportunities
from service.partnerships.repository import coordinated_by

DEFAULT_SORT = "created_at"
# The list query as the route takes it: `sort` is the enum of the repository's sort fields,
# made at run time, so a type checker sees the query it extends (as for every other list).
if TYPE_CHECKING:
    InterestListQuery = InterestQuery
else:
    InterestListQuery = sortable(InterestQuery, repository.SORTS, DEFAULT_SORT)

# Who may move an interest to each status, and from which one. Declined and withdrawn are
# final (the sender may send a new interest); accepted is final too: contacts have been
# exchanged, and what follows (meetings, an agreement) is recorded elsewhere.
ANSWERED_BY: dict[InterestStatus, str] = {"accepted": "poster", "declined": "poster", "withdrawn": "sender"}
FROM: dict[InterestStatus, InterestStatus] = {"accepted": "pending", "declined": "pending", "withdrawn": "pending"}
EVENTS: dict[InterestStatus, EventType] = {
    "pending": "interest.created", "accepted": "interest.accepted",
    "declined": "interest.declined", "withdrawn": "interest.withdrawn",
}


@dataclass(frozen=True)
class Viewer:
    """What the caller is to one opportunity's interests."""

    anyone: bool = False  # acts for any cluster (admin, unbound write key)
    poster: bool = False
    cluster_id: uuid.UUID | None = None  # the cluster a bound key acts for

    def sees(self, row: InterestRow) -> bool:
        return self.anyone or self.poster or (self.cluster_id is not None and row.cluster_id == self.cluster_id)

    def is_sender(self, row: InterestRow) -> bool:
        return self.anyone or (self.cluster_id is not None and row.cluster_id == self.cluster_id)

    def may(self, role: str, row: InterestRow) -> bool:
        return self.anyone or (self.poster if role == "poster" else self.is_sender(row))


async def _posts(session: AsyncSession, cluster_id: uuid.UUID, opportunity: Opportunity) -> bool:
    """Whether the cluster answers for the opportunity: it posted it, or coordinates the
    partnership that did."""
    if opportunity.posted_by_cluster_id is not None:
        return opportunity.posted_by_cluster_id == cluster_id
    if opportunity.posted_by_partnership_id is not None:
        return bool(await coordinated_by(session, cluster_id, [opportunity.posted_by_partnership_id]))
    return False


async def _viewer(session: AsyncSession, principal: Principal, opportunity: Opportunity) -> Viewer:
    if principal.scope is not None and not principal.bound and principal.allows("write"):
        return Viewer(anyone=True)
    if principal.bound and principal.cluster_id is not None:
        return Viewer(poster=await _posts(session, principal.cluster_id, opportunity), cluster_id=principal.cluster_id)
    return Viewer()


def to_schema(row: InterestRow, viewer: Viewer) -> Interest:
    shown = viewer.is_sender(row) or row.status == "accepted"
    return Interest.model_validate({
        "id": row.id, "opportunity_id": row.opportunity_id, "cluster": row.cluster, "message": row.message,
        "contact": row.contact if shown else None, "poster_contact": row.poster_contact, "status": row.status,
        "created_at": row.created_at, "updated_at": row.updated_at,
    })


def _event(row: InterestRow) -> InterestEvent:
    return InterestEvent.model_validate({"id": row.id, "opportunity_id": row.opportunity_id, "status": row.status})


async def _opportunity(session: AsyncSession, ref: str, today: date) -> tuple[Opportunity, str]:
    found = await opportunities.get(session, id_or_404(ref, "opportunity"), today)
    if found is None:
        raise not_found("opportunity", ref)
    return found[0], found[1]


async def _visible(
    session: AsyncSession, opportunity: Opportunity, ref: str, viewer: Viewer, *, for_update: bool = False
) -> InterestRow:
    """The interest, if the viewer may see it; 404 otherwise, as if it did not exist."""
    row = await repository.get(session, opportunity.id, id_or_404(ref, "interest"), for_update=for_update)
    if row is None or not viewer.sees(row):
        raise not_found("interest", ref)
    return row


async def _sender(session: AsyncSession, ref: str | None, principal: Principal) -> Cluster:
    if ref is None:
        if not principal.bound or principal.cluster_id is None:
            raise InvalidInput.field("body.cluster", "name the interested cluster (a key bound to a cluster may leave it out)")
        ref = str(principal.cluster_id)
    found = await resolve(session, Cluster, [ref])
    if ref not in found:
        raise InvalidInput.field("body.cluster", f"there is no cluster '{ref}'")
    cluster: Cluster = found[ref]
    return cluster


async def create(session: AsyncSession, ref: str, data: InterestCreate, today: date, write: Write) -> Interest:
    opportunity, status = await _opportunity(session, ref, today)
    cluster = await _sender(session, data.cluster, write.principal)
    write.principal.may_create("interests (as the interested cluster)", [cluster.id])
    if status != "open":
        raise Conflict(f"The opportunity is {status}: it takes no more interests.")
    if await _posts(session, cluster.id, opportunity):
        raise InvalidInput.field("body.cluster", "a cluster cannot express interest in an opportunity it posts")
    row = InterestRow(
        opportunity_id=opportunity.id, cluster_id=cluster.id, message=data.message, contact=data.contact, status="pending"
    )
    session.add(row)
    await flush(session, duplicate=(
        f"Cluster '{cluster.slug}' already has a pending or accepted interest in this opportunity; "
        "withdraw it before sending another."
    ))
    await events.record(session, EVENTS["pending"], _event(row), version=row.version)
    return to_schema(await _visible(session, opportunity, str(row.id), Viewer(anyone=True)), Viewer(anyone=True))


def _check_change(row: InterestRow, patch: InterestPatch, viewer: Viewer) -> None:
    """403 for a change that is not the caller's to make, then 409 for one the status does
    not allow."""
    role = ANSWERED_BY.get(patch.status)
    if role is not None and not viewer.may(role, row):
        who = "the poster of the opportunity" if role == "poster" else "the interested cluster"
        raise Forbidden(f"Only {who} may set an interest {patch.status}.")
    if FROM.get(patch.status) != row.status:
        raise Conflict(f"An interest that is {row.status} cannot become {patch.status}.")
    if patch.contact is not None and patch.status != "accepted":
        raise InvalidInput.field("body.contact", "give a contact only when accepting")


async def update(
    session: AsyncSession, ref: str, interest: str, patch: InterestPatch, write: Write, today: date
) -> Interest:
    opportunity, _ = await _opportunity(session, ref, today)
    viewer = await _viewer(session, write.principal, opportunity)
    row = await _visible(session, opportunity, interest, viewer, for_update=True)
    write.preconditions.check(to_schema(row, viewer))
    _check_change(row, patch, viewer)
    row.status = patch.status
    if patch.status == "accepted":
        row.poster_contact = patch.contact
    await flush(session)
    await events.record(session, EVENTS[patch.status], _event(row), version=row.version)
    return to_schema(await _visible(session, opportunity, interest, viewer), viewer)


async def get(session: AsyncSession, ref: str, interest: str, principal: Principal, today: date) -> Interest:
    opportunity, _ = await _opportunity(session, ref, today)
    viewer = await _viewer(session, principal, opportunity)
    return to_schema(await _visible(session, opportunity, interest, viewer), viewer)


async def list_page(
    session: AsyncSession, ref: str, query: InterestQuery, principal: Principal, today: date
) -> Page[Interest]:
    opportunity, _ = await _opportunity(session, ref, today)
    viewer = await _viewer(session, principal, opportunity)
    sort = parse_sort(query.sort, repository.SORTS, default=DEFAULT_SORT)
    if not (viewer.anyone or viewer.poster or viewer.cluster_id):
        return Page[Interest](items=[], next_cursor=None)
    sender = None if viewer.anyone or viewer.poster else viewer.cluster_id
    rows, cursor = await repository.page(session, opportunity.id, sender, query, sort)
    return Page[Interest](items=[to_schema(r, viewer) for r in rows], next_cursor=cursor)


async def funnel(session: AsyncSession, ref: str, today: date) -> OpportunityFunnel:
    opportunity, _ = await _opportunity(session, ref, today)
    counts = await repository.counts(session, opportunity.id)
    return OpportunityFunnel(
        interests=sum(counts.values()), pending=counts.get("pending", 0), accepted=counts.get("accepted", 0),
        declined=counts.get("declined", 0), withdrawn=counts.get("withdrawn", 0),
    )


async def summary(session: AsyncSession, ref: str, today: date) -> InterestSummary:
    counts = await funnel(session, ref, today)
    return InterestSummary(total=counts.interests, accepted=counts.accepted)

"""Rules about missions and their participants. Never commits: the request boundary does."""

import uuid
from datetime import date
from typing import TYPE_CHECKING, Any

from sqlalchemy import func
from sqlalchemy.ext.asyncio import AsyncSession

from service.access.principal import Write
from service.errors import Conflict, Forbidden, InvalidInput, NotFound
from service.events import service as events
from service.kit.lookup import flush, resolve, unknown_references
from service.kit.pagination import Page, parse_sort, sortable
from service.kit.patching import merge
from service.kit.repository import id_or_404, not_found, or_404
from service.missions import repository
from service.missions.schemas import (
    Mission,
    MissionCreate,
    MissionPatch,
    MissionQuery,
    Participant,
    ParticipantIn,
    ParticipantPatch,
)
from service.models import Cluster, MissionOrganiser, MissionParticipant, Partnership
from service.models import Mission as MissionRow
from service.partnerships import repository as partnership_repository
from service.sectors.service import ensure_known

KIND = "mission"
DEFAULT_SORT = "starts_on"
# The list query as routes take it: `sort` is the enum of the repository's sort fields, added
# at run time, so a type checker sees the query it extends.
if TYPE_CHECKING:
    MissionListQuery = MissionQuery
else:
    MissionListQuery = sortable(MissionQuery, repository.SORTS, DEFAULT_SORT)


OUTCOME_FIELDS = ("participating_smes", "bilateral_meetings", "business_contracts", "agreements_signed")
# Outcomes the service counts rather than takes, once any meeting of the mission is recorded
# held or no-show: meetings held, signed agreements linked to the mission. Only then, not
# always: a mission run without the meeting module (most past ones) has no meetings to count,
# and its figures, typed in from its report, would read as zero. Once counted, reads show the
# count, a PATCH setting another figure answers 409, a calendar sync leaves them be, and a
# bulk row with another figure is rejected (bulk/resources/missions.py).
DERIVED = {"bilateral_meetings": "meetings held", "agreements_signed": "signed agreements linked to it"}


def counted_outcomes(row: MissionRow) -> dict[str, int] | None:
    """The derived outcomes, or None while no meeting is recorded (or the row was not read
    through the repository, which counts them)."""
    if row.counted_meetings is None or row.counted_agreements is None:
        return None
    return {"bilateral_meetings": row.counted_meetings, "agreements_signed": row.counted_agreements}


def to_schema(row: MissionRow, status: str) -> Mission:
    organisers = row.organisers
    return Mission.model_validate({
        **{name: getattr(row, name) for name in Mission.model_fields if hasattr(row, name)},
        "status": status,
        "organisers": {
            "clusters": [o.cluster for o in organisers if o.cluster_id],
            "partnerships": [o.partnership for o in organisers if o.partnership_id],
            "external": row.external_organiser,
        },
        "outcomes": {name: getattr(row, name) for name in OUTCOME_FIELDS} | (counted_outcomes(row) or {}),
        "calendar": {"source_id": row.source_id, "uid": row.source_uid} if row.source_id else None,
        "sequence": row.version - 1,
    })


def as_input(mission: Mission) -> dict[str, Any]:
    """The current state in the shape a create accepts (for merging a PATCH)."""
    data = mission.model_dump(include=set(MissionCreate.model_fields) - {"organisers"})
    data["organisers"] = {
        "clusters": [c.slug for c in mission.organisers.clusters],
        "partnerships": [p.slug for p in mission.organisers.partnerships],
        "external": mission.organisers.external,
    }
    return data


async def _get(session: AsyncSession, ref: str, today: date, *, for_update: bool = False) -> repository.MissionWithStatus:
    """(mission, status); missions are known by id only."""
    found = repository.get(session, id_or_404(ref, KIND), today, for_update=for_update)
    return await or_404(found, KIND, ref)


async def get(session: AsyncSession, ref: str, today: date) -> Mission:
    row, status = await _get(session, ref, today)
    return to_schema(row, status)


async def list_page(session: AsyncSession, query: MissionQuery, today: date) -> Page[Mission]:
    sort = parse_sort(query.sort, repository.SORTS, default=DEFAULT_SORT)
    rows, cursor = await repository.page(session, query, sort, today)
    return Page[Mission](items=[to_schema(r.Mission, r.status) for r in rows], next_cursor=cursor)


async def _organisers(session: AsyncSession, data: MissionCreate) -> list[MissionOrganiser]:
    wanted = data.organisers
    clusters = await resolve(session, Cluster, wanted.clusters)
    partnerships = await resolve(session, Partnership, wanted.partnerships)
    errors = unknown_references(wanted.clusters, clusters, "body.organisers.clusters", "cluster")
    errors += unknown_references(wanted.partnerships, partnerships, "body.organisers.partnerships", "partnership")
    if errors:
        raise InvalidInput("Some organisers are unknown.", errors=errors)
    cluster_ids = list(dict.fromkeys(clusters[r].id for r in wanted.clusters))
    partnership_ids = list(dict.fromkeys(partnerships[r].id for r in wanted.partnerships))
    return [MissionOrganiser(position=i, cluster_id=c) for i, c in enumerate(cluster_ids)] + [
        MissionOrganiser(position=len(cluster_ids) + i, partnership_id=p) for i, p in enumerate(partnership_ids)
    ]


def apply(row: MissionRow, data: MissionCreate) -> None:
    """Copy a validated mission onto its row (organisers apart)."""
    values = data.model_dump(exclude={"organisers", "outcomes"})
    values["external_organiser"] = data.organisers.external
    values |= data.outcomes.model_dump()
    for field, value in values.items():
        setattr(row, field, value)


def _same_organisers(row: MissionRow, new: list[MissionOrganiser]) -> bool:
    return [(o.cluster_id, o.partnership_id) for o in row.organisers] == [(o.cluster_id, o.partnership_id) for o in new]


async def _reloaded(session: AsyncSession, mission_id: uuid.UUID, today: date) -> Mission:
    row, status = await or_404(repository.get(session, mission_id, today), KIND, str(mission_id))
    return to_schema(row, status)


async def changed(session: AsyncSession, row: MissionRow, today: date) -> Mission:
    """Write `mission.updated` for a change that update() does not make (a participant's,
    a calendar sync's cancellation); returns the mission as it now is."""
    mission = await _reloaded(session, row.id, today)
    await events.record(session, "mission.updated", mission, version=row.version)
    return mission


def _duplicate(data: MissionCreate) -> str:
    return f"A mission with external_id '{data.external_id}' already exists."


def _organising_clusters(organisers: list[MissionOrganiser]) -> list[uuid.UUID]:
    """Who owns a mission: its organising clusters."""
    return [o.cluster_id for o in organisers if o.cluster_id]


def _organising_partnerships(organisers: list[MissionOrganiser]) -> list[uuid.UUID]:
    return [o.partnership_id for o in organisers if o.partnership_id]


async def _check_organisers(session: AsyncSession, write: Write, before: list[MissionOrganiser],
                            after: list[MissionOrganiser]) -> None:
    """A bound key names only its own cluster as an organiser, and adds or drops an organising
    partnership only where its cluster coordinates that partnership: a mission "organised by"
    a cluster or partnership speaks for them."""
    principal = write.principal
    principal.leaves_others_as_they_stand(_organising_clusters(before), _organising_clusters(after), "an organiser")
    changed = set(_organising_partnerships(before)) ^ set(_organising_partnerships(after))
    if principal.bound and changed:
        if changed - await partnership_repository.coordinated_by(session, principal.cluster_id, changed):
            raise Forbidden("A key bound to a cluster may add or drop as organiser only partnerships its cluster coordinates.")


async def create(session: AsyncSession, data: MissionCreate, today: date, write: Write, **origin: object) -> Mission:
    """Create a mission; origin holds calendar fields (source_id, source_uid...) for imports."""
    await ensure_known(session, data.sectors)
    organisers = await _organisers(session, data)
    write.principal.may_create("missions (as organiser)", _organising_clusters(organisers))
    await _check_organisers(session, write, [], organisers)
    row = MissionRow(**origin)
    apply(row, data)
    row.organisers = organisers
    session.add(row)
    await flush(session, duplicate=_duplicate(data))
    created = await _reloaded(session, row.id, today)
    await events.record(session, "mission.created", created, version=row.version)
    return created


def _keeping_counted(row: MissionRow, data: MissionCreate) -> MissionCreate:
    """data with the counted outcomes in place of its own, once they are counted."""
    counted = counted_outcomes(row)
    if counted is None:
        return data
    return data.model_copy(update={"outcomes": data.outcomes.model_copy(update=counted)})


def _check_counted(row: MissionRow, patch: MissionPatch) -> None:
    """409 for a PATCH that sets a counted outcome to anything but its count. One that leaves
    it out of `outcomes` keeps the count (see replace)."""
    counted = counted_outcomes(row)
    changes = patch.model_dump(exclude_unset=True)
    if counted is None or "outcomes" not in changes:
        return
    given = changes["outcomes"]
    for name, value in counted.items():
        if given.get(name, value) != value:
            raise Conflict(
                f"outcomes.{name} is derived: it is the number of {DERIVED[name]} ({value}) since meetings of "
                f"this mission were recorded, and cannot be set. Leave it out of `outcomes`."
            )


async def replace(
    session: AsyncSession, row: MissionRow, data: MissionCreate, today: date, write: Write, before: Mission | None = None
) -> Mission:
    """Make a locked mission row equal to data; unchanged fields are not written. The event
    is written unless the mission is the same as before (when given). Counted outcomes stay
    what they count, whatever data says (a calendar feed cannot know them)."""
    data = _keeping_counted(row, data)
    await ensure_known(session, data.sectors)
    organisers = await _organisers(session, data)
    write.principal.keeps(_organising_clusters(organisers), "the mission")
    await _check_organisers(session, write, row.organisers, organisers)
    apply(row, data)
    if not _same_organisers(row, organisers):
        # The old organiser rows go first: a flush inserts before it deletes, and a cluster
        # that stays would meet its own old row.
        row.organisers = []
        await flush(session)
        row.organisers = organisers
        # The organisers are rows of their own: touch the mission's, so that its version
        # (the iCalendar SEQUENCE) and updated_at move as for any other change.
        row.updated_at = func.statement_timestamp()
    await flush(session, duplicate=_duplicate(data))
    after = await _reloaded(session, row.id, today)
    if after != before:
        await events.record(session, "mission.updated", after, version=row.version)
    return after


async def update(session: AsyncSession, ref: str, patch: MissionPatch, write: Write, today: date) -> Mission:
    row, status = await _get(session, ref, today, for_update=True)
    current = to_schema(row, status)
    write.check(current, _organising_clusters(row.organisers), not_found(KIND, ref))
    _check_counted(row, patch)
    return await replace(session, row, merge(MissionCreate, as_input(current), patch), today, write, current)


async def delete(session: AsyncSession, ref: str, write: Write, today: date) -> None:
    row, status = await _get(session, ref, today, for_update=True)
    current = to_schema(row, status)
    write.check(current, _organising_clusters(row.organisers), not_found(KIND, ref))
    await session.delete(row)
    await flush(session, referenced="The mission is still referenced (an agreement signed at it); remove that link first.")
    await events.record(session, "mission.deleted", current, version=row.version)


# Participants ----------------------------------------------------------------------------


async def _cluster(session: AsyncSession, ref: str, location: str) -> Cluster:
    found = await resolve(session, Cluster, [ref])
    if ref not in found:
        raise InvalidInput.field(location, f"there is no cluster '{ref}'")
    cluster: Cluster = found[ref]
    return cluster


async def _participant(
    session: AsyncSession, mission_ref: str, cluster_ref: str, today: date, *, for_update: bool = False
) -> tuple[MissionRow, MissionParticipant]:
    """(mission row, participant row); a mission's organisers and the participant own it."""
    row, _ = await _get(session, mission_ref, today)
    found = await resolve(session, Cluster, [cluster_ref])
    participant = (
        await repository.participant(session, row.id, found[cluster_ref].id, for_update=for_update) if found else None
    )
    if not participant:
        raise NotFound(f"Cluster '{cluster_ref}' does not take part in mission {row.id}.")
    return row, participant


def _participation_owners(mission: MissionRow, cluster_id: uuid.UUID) -> list[uuid.UUID]:
    return [*_organising_clusters(mission.organisers), cluster_id]


async def list_participants(session: AsyncSession, ref: str, today: date) -> Page[Participant]:
    row, _ = await _get(session, ref, today)
    rows = await repository.participants(session, row.id)
    return Page[Participant](items=[Participant.model_validate(p) for p in rows], next_cursor=None)


async def get_participant(session: AsyncSession, ref: str, cluster_ref: str, today: date) -> Participant:
    _, participant = await _participant(session, ref, cluster_ref, today)
    return Participant.model_validate(participant)


async def add_participant(session: AsyncSession, ref: str, data: ParticipantIn, today: date, write: Write) -> Participant:
    """Organisers add participants; a cluster may sign itself up."""
    row, _ = await _get(session, ref, today)
    cluster = await _cluster(session, data.cluster, "body.cluster")
    write.principal.may_create("participations", _participation_owners(row, cluster.id))
    if await repository.participant(session, row.id, cluster.id):
        raise Conflict(f"Cluster '{data.cluster}' already takes part in this mission.")
    session.add(MissionParticipant(mission_id=row.id, cluster_id=cluster.id, smes=data.smes))
    await flush(session, duplicate=f"Cluster '{data.cluster}' already takes part in this mission.")
    await changed(session, row, today)
    return Participant.model_validate(await repository.participant(session, row.id, cluster.id))


async def update_participant(
    session: AsyncSession, ref: str, cluster_ref: str, data: ParticipantPatch, write: Write, today: date
) -> Participant:
    row, participant = await _participant(session, ref, cluster_ref, today, for_update=True)
    write.check(Participant.model_validate(participant), _participation_owners(row, participant.cluster_id),
                NotFound(f"Cluster '{cluster_ref}' does not take part in mission {row.id}."))
    smes_before, participant.smes = participant.smes, data.smes
    await flush(session)
    if participant.smes != smes_before:
        await changed(session, row, today)
    return Participant.model_validate(participant)


async def remove_participant(
    session: AsyncSession, ref: str, cluster_ref: str, write: Write, today: date
) -> None:
    row, participant = await _participant(session, ref, cluster_ref, today, for_update=True)
    write.check(Participant.model_validate(participant), _participation_owners(row, participant.cluster_id),
                NotFound(f"Cluster '{cluster_ref}' does not take part in mission {row.id}."))
    await session.delete(participant)
    await flush(session)
    await changed(session, row, today)

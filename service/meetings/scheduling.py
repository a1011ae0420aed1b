"""Running the scheduler for a mission and publishing its result.

The problem is built from the accepted requests, the participants' availability and the
sessions' slots; the solver runs in a worker thread so the event loop keeps serving while it
searches (for at most MEETINGS__SCHEDULE_SECONDS). A run holds no database connection while
it searches: it reads its inputs in one short transaction, and writes the schedule in a
second one, after locking the setup row and reading the inputs again. If they changed
meanwhile (a request answered, an availability or the setup changed, a meeting published or
recorded, or another run wrote its schedule: each run and each publishing moves the setup's
version), the schedule answers a problem that no longer exists, and the run answers 409 so
the organiser runs it again. Of two runs for one mission, both may search, but only the first
to write does. This is the one service here that opens its own transactions (as bulk loads
do): the request's session would hold a connection for the whole search.
"""

import asyncio
import uuid
from collections.abc import Hashable, Sequence
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import func
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from service.access.principal import Write
from service.config import MeetingSettings
from service.errors import Conflict
from service.kit.lookup import flush
from service.meetings import feed, repository, scheduler
from service.meetings.schemas import LeftOut, Published, ScheduleIn, ScheduleResult
from service.meetings.service import RECORDED, check_organiser, meeting_schema, mission, slots
from service.models import Cluster, Meeting, MeetingSession
from service.models import MeetingSetup as SetupRow


def _available(
    availability: dict[uuid.UUID, list[str]], items: list[tuple[datetime, datetime, str]],
) -> dict[scheduler.Party, frozenset[scheduler.Slot]]:
    """Each participant that named its sessions: the slots in them (others: every slot)."""
    return {
        cluster: frozenset(i for i, (_, _, name) in enumerate(items) if name in names)
        for cluster, names in availability.items()
    }


async def _problem(
    session: AsyncSession, mission_id: uuid.UUID, setup: SetupRow, sessions: Sequence[MeetingSession], keep: bool,
) -> tuple[scheduler.Problem, list[tuple[datetime, datetime, str]]]:
    items = slots(setup, sessions)
    accepted = await repository.requests(session, mission_id, status="accepted")
    by_start = {start: i for i, (start, _, _) in enumerate(items)}
    published: dict[Hashable, scheduler.Placed] = {
        m.request_id: scheduler.Placed(by_start[m.starts_at], m.table_number)
        for m, *_ in await repository.meetings(session, mission_id, statuses=("published",))
        if keep and m.starts_at in by_start
    }
    problem = scheduler.Problem(
        slots=tuple(range(len(items))),
        tables=setup.tables,
        requests=scheduler.requests_of((r.id, r.from_cluster_id, r.to_cluster_id) for r, _, _ in accepted),
        available=_available(await repository.availability(session, mission_id), items),
        published=published,
    )
    return problem, items


@dataclass(frozen=True)
class _Inputs:
    """What a schedule is made from, as read at one moment; equal inputs, equal problem."""

    mission_id: uuid.UUID
    setup_version: int
    problem: scheduler.Problem
    items: list[tuple[datetime, datetime, str]]


async def _inputs(session: AsyncSession, ref: str, data: ScheduleIn, write: Write, today: date, *,
                  for_update: bool = False) -> tuple[_Inputs, SetupRow]:
    row = await mission(session, ref, today)
    check_organiser(write.principal, row)
    setup = await repository.setup(session, row.id, for_update=for_update)
    if setup is None:
        raise Conflict(f"Mission {row.id} has no meeting setup yet (PUT its meeting-setup first).")
    if await repository.count_meetings(session, row.id, RECORDED):
        raise Conflict("Meetings of this mission are already recorded as held or no-show; the schedule is final.")
    keep = data.reschedule == "unpublished"
    problem, items = await _problem(session, row.id, setup, await repository.sessions(session, row.id), keep)
    return _Inputs(row.id, setup.version, problem, items), setup


async def run(
    sessionmaker: async_sessionmaker[AsyncSession], ref: str, data: ScheduleIn, write: Write,
    settings: MeetingSettings, today: date,
) -> ScheduleResult:
    async with sessionmaker() as session:
        read, _ = await _inputs(session, ref, data, write, today)
        await session.rollback()  # ends the read: the connection goes back to the pool for the search
    try:
        result = await asyncio.to_thread(scheduler.schedule, read.problem, time_limit=settings.schedule_seconds)
    except scheduler.Infeasible as error:
        raise Conflict(f"The published meetings cannot all stay: {error}.") from None
    async with sessionmaker.begin() as session:
        now, setup = await _inputs(session, ref, data, write, today, for_update=True)
        if now != read:
            raise Conflict("The mission's requests, availability, setup or meetings changed while the schedule was "
                           "being made (or another run wrote one): nothing was written; schedule again.")
        setup.updated_at = func.statement_timestamp()  # moves its version: a run that read before this one is stale
        return await _write(session, read, result, keep=data.reschedule == "unpublished")


async def _write(session: AsyncSession, read: _Inputs, result: scheduler.Schedule, *, keep: bool) -> ScheduleResult:
    mission_id, problem, items = read.mission_id, read.problem, read.items
    dropped = await repository.drop_meetings(session, mission_id, ("scheduled",) if keep else ("scheduled", "published"))
    await flush(session)
    placed = [
        Meeting(mission_id=mission_id, request_id=request_id, starts_at=items[place.slot][0],
                ends_at=items[place.slot][1], table_number=place.table)
        for request_id, place in result.placed.items() if request_id not in problem.published
    ]
    session.add_all(placed)
    await flush(session)
    await feed.meetings_cancelled(session, dropped)
    await feed.meetings_became(session, "scheduled", placed)
    meetings = await repository.meetings(session, mission_id)
    accepted: dict[Hashable, tuple[Cluster, Cluster]] = {
        r.id: (asking, asked) for r, asking, asked in await repository.requests(session, mission_id, status="accepted")
    }
    return ScheduleResult(
        scheduled=len(result.placed),
        meetings=[meeting_schema(*m) for m in meetings],
        left_out=[LeftOut.model_validate({"request_id": rid, "clusters": list(accepted[rid]), "reason": reason})
                  for rid, reason in result.unplaced.items()],
        upper_bound=result.upper_bound,
        optimal=result.optimal,
        seconds=round(result.seconds, 3),
    )


async def publish(session: AsyncSession, ref: str, write: Write, today: date) -> Published:
    row = await mission(session, ref, today)
    check_organiser(write.principal, row)
    setup = await repository.setup(session, row.id, for_update=True)
    published = await repository.publish(session, row.id)
    await feed.meetings_became(session, "published", published)
    if setup is not None and published:
        setup.updated_at = func.statement_timestamp()  # a run that read before this is stale
        await flush(session)
    return Published(published=len(published))

"""Applying a parsed feed to the missions taken from it.

Missions are keyed by (source, UID). An event is applied only when it changed: a SEQUENCE
lower than the one applied last is stale and ignored, and an event whose mission data is the
same as last time (same fingerprint) leaves the mission untouched, so re-syncing an
unchanged feed writes nothing. Missions whose event disappeared from the feed, or came back
CANCELLED, are cancelled, never deleted.
"""

import hashlib
import uuid
from datetime import date

from sqlalchemy.ext.asyncio import AsyncSession

from service.access.principal import SYSTEM, SYSTEM_WRITE, Principal
from service.calendar import repository
from service.calendar.parse import FeedEvent, Rejection
from service.calendar.schemas import Rejected, SyncReport
from service.missions import service as missions
from service.models import Mission


def fingerprint(event: FeedEvent) -> str:
    return hashlib.sha256(event.mission.model_dump_json().encode()).hexdigest()


async def apply(
    session: AsyncSession, source_id: uuid.UUID | None, results: list[FeedEvent | Rejection], today: date, report: SyncReport,
    *, cancel_missing: bool, principal: Principal = SYSTEM,
) -> SyncReport:
    existing = await repository.missions_of(session, source_id)
    seen: set[str] = set()
    for result in results:
        if isinstance(result, Rejection):
            report.rejected.append(Rejected(uid=result.uid, reason=result.reason))
            seen.add(result.uid or "")
            continue
        if result.uid in seen:
            report.rejected.append(Rejected(uid=result.uid, reason="the UID appears more than once in the feed"))
            continue
        seen.add(result.uid)
        mission = existing.get(result.uid)
        if mission is not None and not principal.owns(o.cluster_id for o in mission.organisers if o.cluster_id):
            # Uploads share one space of UIDs: a key bound to a cluster must not take over
            # (or rewrite) another cluster's mission by sending an event with its UID.
            report.rejected.append(Rejected(uid=result.uid, reason="the UID is of a mission your cluster does not organise"))
            continue
        await _apply_event(session, source_id, mission, result, today, report)
    if cancel_missing:
        gone = [m for uid, m in existing.items() if uid not in seen and not m.cancelled]
        for mission in gone:
            mission.cancelled = True
            report.cancelled += 1
        await session.flush()
        for mission in gone:
            await missions.changed(session, mission, today)
    return report


async def _apply_event(
    session: AsyncSession, source_id: uuid.UUID | None, mission: Mission | None, event: FeedEvent, today: date,
    report: SyncReport,
) -> None:
    mark = fingerprint(event)
    origin = {"source_sequence": event.sequence, "source_fingerprint": mark}
    if mission is None:
        await missions.create(session, event.mission, today, SYSTEM_WRITE, source_id=source_id, source_uid=event.uid, **origin)
        report.created += 1
        return
    stale = mission.source_sequence is not None and event.sequence < mission.source_sequence
    if stale or mark == mission.source_fingerprint:
        report.unchanged += 1
        return
    was_cancelled = mission.cancelled
    for field, value in origin.items():
        setattr(mission, field, value)
    await missions.replace(session, mission, event.mission, today, SYSTEM_WRITE)
    if event.mission.cancelled and not was_cancelled:
        report.cancelled += 1
    else:
        report.updated += 1

"""The calendar's tasks: `calendar:sync_due` (each minute) queues a `calendar:sync` for every
source whose sync interval has passed since its last sync."""

import logging

from procrastinate import Blueprint, JobContext

from service.calendar import service as calendar
from service.errors import ServiceError
from service.tasks.runtime import resources

log = logging.getLogger(__name__)


async def sync_due(context: JobContext, timestamp: int) -> None:
    service = resources(context)
    async with service.sessionmaker() as session:
        queued = await calendar.queue_due_syncs(session, service.clock.now())
        await session.commit()
    if queued:
        log.info("queued the sync of %d calendar sources", len(queued))


async def sync(context: JobContext, source_id: str) -> None:
    """A feed the source refuses (or a source deleted meanwhile) is logged, not retried: the
    next due tick tries again."""
    service = resources(context)
    try:
        report = await calendar.sync_committed(service.sessionmaker, source_id, service.settings.calendar, service.clock)
    except ServiceError as exc:
        log.warning("calendar source %s not synced: %s", source_id, exc.detail)
        return
    log.info("calendar source %s synced: %d created, %d updated, %d cancelled", source_id, report.created,
             report.updated, report.cancelled)


def blueprint() -> Blueprint:
    tasks = Blueprint()
    tasks.periodic(cron="* * * * *")(tasks.task(name="sync_due", queueing_lock="calendar:sync_due", pass_context=True)(sync_due))
    tasks.task(name="sync", queue="calendar", pass_context=True)(sync)
    return tasks

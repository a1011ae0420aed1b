"""Periodic upkeep of the queue and of expiring data.

Every running worker defers periodic tasks, but procrastinate records each (task, tick)
once, so a tick runs once however many workers there are.
"""

import logging

from procrastinate import Blueprint, JobContext

from service.bulk.jobs import purge_orphaned_uploads
from service.ops.purge import purge_batch
from service.tasks.runtime import resources

log = logging.getLogger(__name__)


async def retry_stalled(context: JobContext, timestamp: int) -> None:
    """Queue again the jobs of workers that stopped sending heartbeats (killed, or their
    machine lost): their transactions rolled back with their connections, so running the job
    again from the start does it once."""
    stalled_after = resources(context).settings.tasks.stalled_after_seconds
    assert context.app is not None
    manager = context.app.job_manager
    for job in await manager.get_stalled_jobs(seconds_since_heartbeat=stalled_after):
        log.warning("retrying job %s (%s) of a worker that stopped", job.id, job.task_name)
        await manager.retry_job(job)


async def purge(context: JobContext, timestamp: int) -> None:
    """Delete expired idempotency answers in committed batches, until none is left, and the
    uploads of bulk jobs that no task will read."""
    service = resources(context)
    while True:
        async with service.sessionmaker() as session:
            batch = await purge_batch(session, service.settings)
            await session.commit()
        if batch.total == 0:
            break
    if purged := await purge_orphaned_uploads(service.sessionmaker, service.settings.bulk):
        log.warning("deleted the uploads of %d finished or stranded bulk jobs", purged)


def blueprint() -> Blueprint:
    tasks = Blueprint()
    every_10_seconds, every_minute = "* * * * * */10", "* * * * *"
    tasks.periodic(cron=every_10_seconds)(
        tasks.task(name="retry_stalled", queueing_lock="upkeep:retry_stalled", pass_context=True)(retry_stalled)
    )
    tasks.periodic(cron=every_minute)(tasks.task(name="purge", queueing_lock="upkeep:purge", pass_context=True)(purge))
    return tasks

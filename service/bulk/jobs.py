"""Bulk loads run in the background (`?async=true`), as `bulk:run` tasks.

The request keeps the upload in `bulk_uploads` and queues the task in its own transaction,
so a job exists exactly when its upload does, and any worker may run it. The load, the job's
final state and report, and the deletion of the upload commit in one transaction: a worker
killed mid-load leaves nothing of it, and the retried job runs from the start. Progress is
committed as it goes, in short transactions of another session, so that
`GET /v1/bulk-jobs/{id}` shows it.
"""

import logging
import time
import uuid
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import asyncpg
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from service.bulk import job_rows, loader, spool, uploads
from service.bulk.answers import answer_for
from service.bulk.loader import Upload, raw_connection
from service.bulk.reading import BodyMeter
from service.config import BulkSettings
from service.errors import INTERNAL, ServiceError, problem_of

log = logging.getLogger(__name__)

PROGRESS_EVERY_SECONDS = 1.0
T = TypeVar("T")


async def _apart(
    sessionmaker: async_sessionmaker[AsyncSession], settings: BulkSettings,
    change: Callable[..., Awaitable[T]], *args: Any,
) -> T:
    """Commit a change of the job at once, beside the load's transaction."""
    async with sessionmaker() as session:
        result = await change(await raw_connection(session, settings.statement_timeout_ms), *args)
        await session.commit()
    return result


async def _fail(conn: asyncpg.Connection, job_id: uuid.UUID, problem: dict[str, Any]) -> None:
    await job_rows.mark_failed(conn, job_id, problem)
    await uploads.discard(conn, job_id)


async def run(
    sessionmaker: async_sessionmaker[AsyncSession], job_id: uuid.UUID, upload: Upload, settings: BulkSettings,
    instance: str,
) -> None:
    """Run the job, unless it has already finished (a retry of an attempt that committed)."""
    try:
        if await _apart(sessionmaker, settings, job_rows.mark_running, job_id):
            await _load(sessionmaker, job_id, upload, settings, instance)
    except Exception:
        log.exception("bulk job %s failed", job_id)
        await _apart(sessionmaker, settings, _fail, job_id, problem_of(INTERNAL, instance=instance))


async def _load(
    sessionmaker: async_sessionmaker[AsyncSession], job_id: uuid.UUID, upload: Upload, settings: BulkSettings,
    instance: str,
) -> None:
    last = 0.0

    async def progress(bytes_read: int, rows_read: int) -> None:
        nonlocal last
        if time.monotonic() - last >= PROGRESS_EVERY_SECONDS:
            last = time.monotonic()
            await _apart(sessionmaker, settings, job_rows.record_progress, job_id, bytes_read, rows_read)

    # The load's connection is busy with COPY while the body is read, so the pieces are first
    # copied over it to a local spool (memory, then disk): one connection per job, not two.
    body = spool.new_file(settings.job_dir)
    try:
        async with sessionmaker() as session:
            try:
                conn = await raw_connection(session, settings.statement_timeout_ms)
                await uploads.read_into(conn, job_id, body)
                meter = BodyMeter()
                report = await loader.run(conn, upload, spool.chunks_of(body), settings, meter, progress)
            except ServiceError as exc:  # the file could not be used at all: nothing of it is kept
                await session.rollback()
                unusable = problem_of(exc.kind, exc.detail, instance=instance, errors=exc.errors or None)
                await _apart(sessionmaker, settings, _fail, job_id, unusable)
                return
            answer = answer_for(report, instance)
            rejected = {k: v for k, v in answer.body.items() if k != "report"} if answer.status >= 400 else None
            if await job_rows.finish(conn, job_id, report, rejected, meter.bytes_read):
                await uploads.discard(conn, job_id)
                await session.commit()
            else:  # another attempt finished it meanwhile: its load is the one kept
                await session.rollback()
    finally:
        body.close()


async def purge_orphaned_uploads(sessionmaker: async_sessionmaker[AsyncSession], settings: BulkSettings) -> int:
    """Delete uploads no job will read (upkeep); returns the jobs whose upload was deleted."""
    stranded = problem_of(INTERNAL, "The job's task ended without finishing it; load the file again.")
    return await _apart(sessionmaker, settings, uploads.purge_orphans, stranded)

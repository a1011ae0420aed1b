"""Bulk loads run in the background (`?async=true`).

The upload is received whole into a spool, as every bulk upload is (an interrupted upload
leaves neither file nor job); the request answers 202, and the load then runs from the spool
in a session of its own. Progress is committed as it goes, in short transactions of another
session, so that `GET /v1/bulk-jobs/{id}` shows it; the final state and report are written in
the load's own transaction, so they are committed together with the data.
"""

import logging
import time
import uuid
from collections.abc import Awaitable, Callable
from typing import IO, Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from service.bulk import job_rows, loader, spool
from service.bulk.answers import answer_for
from service.bulk.loader import Upload, raw_connection
from service.bulk.reading import BodyMeter
from service.config import BulkSettings
from service.errors import INTERNAL, ServiceError, problem_of

log = logging.getLogger(__name__)

PROGRESS_EVERY_SECONDS = 1.0


async def _apart(
    sessionmaker: async_sessionmaker[AsyncSession], settings: BulkSettings,
    change: Callable[..., Awaitable[None]], *args: Any,
) -> None:
    """Commit a change of the job at once, beside the load's transaction."""
    async with sessionmaker() as session:
        await change(await raw_connection(session, settings.statement_timeout_ms), *args)
        await session.commit()


async def run(
    sessionmaker: async_sessionmaker[AsyncSession], job_id: uuid.UUID, upload: Upload, body: IO[bytes],
    settings: BulkSettings, instance: str,
) -> None:
    last = 0.0

    async def progress(bytes_read: int, rows_read: int) -> None:
        nonlocal last
        if time.monotonic() - last >= PROGRESS_EVERY_SECONDS:
            last = time.monotonic()
            await _apart(sessionmaker, settings, job_rows.record_progress, job_id, bytes_read, rows_read)

    try:
        await _apart(sessionmaker, settings, job_rows.mark_running, job_id)
        async with sessionmaker() as session:
            try:
                conn = await raw_connection(session, settings.statement_timeout_ms)
                meter = BodyMeter()
                report = await loader.run(conn, upload, spool.chunks_of(body), settings, meter, progress)
            except ServiceError as exc:  # the file could not be used at all: nothing of it is kept
                await session.rollback()
                failure = problem_of(exc.kind, exc.detail, instance=instance, errors=exc.errors or None)
                await _apart(sessionmaker, settings, job_rows.mark_failed, job_id, failure)
                return
            answer = answer_for(report, instance)
            problem = {k: v for k, v in answer.body.items() if k != "report"} if answer.status >= 400 else None
            await job_rows.finish(conn, job_id, report, problem, meter.bytes_read)
            await session.commit()
    except Exception:
        log.exception("bulk job %s failed", job_id)
        await _apart(sessionmaker, settings, job_rows.mark_failed, job_id, problem_of(INTERNAL, instance=instance))
    finally:
        body.close()

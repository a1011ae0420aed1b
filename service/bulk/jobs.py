"""Bulk loads run in the background (`?async=true`).

The upload is received whole into a spool, as every bulk upload is (an interrupted upload
leaves neither file nor job); the request answers 202, and the load then runs from the spool
in a session of its own. Progress is committed as it goes, in short transactions of another
session, so that `GET /v1/bulk-jobs/{id}` shows it; the final state and report are written in
the load's own transaction, so they are committed together with the data.
"""

import json
import logging
import time
import uuid
from typing import IO

import asyncpg
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from service.bulk import loader, spool
from service.bulk.answers import answer_for
from service.bulk.loader import Upload, raw_connection
from service.bulk.reading import BodyMeter
from service.bulk.schemas import BulkJob
from service.config import BulkSettings
from service.errors import INTERNAL, ServiceError, problem_of

log = logging.getLogger(__name__)

PROGRESS_EVERY_SECONDS = 1.0


async def create(conn: asyncpg.Connection, upload: Upload, bytes_total: int, api_key_id: uuid.UUID | None) -> BulkJob:
    row = await conn.fetchrow(
        """INSERT INTO bulk_jobs (id, resource, format, mode, dry_run, bytes_total, api_key_id)
           VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING *""",
        uuid.uuid4(), upload.resource.name, upload.format, upload.mode, upload.dry_run, bytes_total, api_key_id,
    )
    return BulkJob.model_validate(dict(row))


async def get(conn: asyncpg.Connection, job_id: uuid.UUID, api_key_id: uuid.UUID | None = None) -> BulkJob | None:
    """The job; with api_key_id, only if that key started it."""
    row = await conn.fetchrow(
        "SELECT * FROM bulk_jobs WHERE id = $1 AND ($2::uuid IS NULL OR api_key_id = $2)", job_id, api_key_id
    )
    return BulkJob.model_validate(dict(row)) if row else None


async def _update(sessionmaker: async_sessionmaker[AsyncSession], settings: BulkSettings, sql: str, *args) -> None:
    """Commit a change of the job at once, beside the load's transaction."""
    async with sessionmaker() as session:
        conn = await raw_connection(session, settings.statement_timeout_ms)
        await conn.execute(sql, *args)
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
            await _update(sessionmaker, settings, """UPDATE bulk_jobs SET bytes_read = $2, rows_read = $3,
                                                     updated_at = statement_timestamp() WHERE id = $1""",
                          job_id, bytes_read, rows_read)

    try:
        await _update(sessionmaker, settings,
                      "UPDATE bulk_jobs SET state = 'running', updated_at = statement_timestamp() WHERE id = $1", job_id)
        async with sessionmaker() as session:
            try:
                conn = await raw_connection(session, settings.statement_timeout_ms)
                meter = BodyMeter()
                report = await loader.run(conn, upload, spool.chunks_of(body), settings, meter, progress)
            except ServiceError as exc:  # the file could not be used at all: nothing of it is kept
                await session.rollback()
                problem = problem_of(exc.kind, exc.detail, instance=instance, errors=exc.errors or None)
                await _update(sessionmaker, settings, """UPDATE bulk_jobs SET state = 'failed', problem = $2,
                              updated_at = statement_timestamp(), finished_at = statement_timestamp() WHERE id = $1""",
                              job_id, json.dumps(problem))
                return
            answer = answer_for(report, instance)
            problem = {k: v for k, v in answer.body.items() if k != "report"} if answer.status >= 400 else None
            await conn.execute(
                """UPDATE bulk_jobs SET state = $2, report = $3, problem = $4, bytes_read = $5, rows_read = $6,
                       updated_at = statement_timestamp(), finished_at = statement_timestamp() WHERE id = $1""",
                job_id, "failed" if problem else "succeeded", report.model_dump_json(),
                json.dumps(problem) if problem else None, meter.bytes_read, report.received,
            )
            await session.commit()
    except Exception:
        log.exception("bulk job %s failed", job_id)
        await _update(sessionmaker, settings, """UPDATE bulk_jobs SET state = 'failed', problem = $2,
                      updated_at = statement_timestamp(), finished_at = statement_timestamp() WHERE id = $1""",
                      job_id, json.dumps(problem_of(INTERNAL, instance=instance)))
    finally:
        body.close()

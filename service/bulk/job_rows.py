"""The SQL of background bulk jobs: the `bulk_jobs` rows, through the load's raw connection
(jobs run beside the COPY-based loader, on the same asyncpg connections)."""

import json
import uuid
from typing import Any

import asyncpg

from service.bulk.loader import Upload
from service.bulk.schemas import BulkJob, BulkReport


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


# A job's state changes only while it is unfinished: an attempt retried after another one
# committed the end (or racing it) finds nothing to change, so a job ends exactly once.
_UNFINISHED = "state IN ('queued', 'running')"


async def mark_running(conn: asyncpg.Connection, job_id: uuid.UUID) -> bool:
    """False when the job has already finished (nothing left to run)."""
    found = await conn.fetchval(
        f"UPDATE bulk_jobs SET state = 'running', updated_at = statement_timestamp() WHERE id = $1 AND {_UNFINISHED} RETURNING id",
        job_id,
    )
    return found is not None


async def queued_by(conn: asyncpg.Connection, api_key_id: uuid.UUID | None) -> tuple[int, int]:
    """The key's unfinished jobs and their bytes. Serialised per key until the transaction
    ends, so that two uploads at once cannot both pass a limit meant for their sum."""
    await conn.execute("SELECT pg_advisory_xact_lock(hashtextextended('bulk-jobs:' || $1::text, 0))", str(api_key_id))
    row = await conn.fetchrow(
        f"SELECT count(*), coalesce(sum(bytes_total), 0) FROM bulk_jobs WHERE api_key_id IS NOT DISTINCT FROM $1 AND {_UNFINISHED}",
        api_key_id,
    )
    assert row is not None
    return int(row[0]), int(row[1])


async def record_progress(conn: asyncpg.Connection, job_id: uuid.UUID, bytes_read: int, rows_read: int) -> None:
    await conn.execute(
        """UPDATE bulk_jobs SET bytes_read = $2, rows_read = $3,
                                updated_at = statement_timestamp() WHERE id = $1""",
        job_id, bytes_read, rows_read,
    )


async def mark_failed(conn: asyncpg.Connection, job_id: uuid.UUID, problem: dict[str, Any]) -> None:
    await conn.execute(
        f"""UPDATE bulk_jobs SET state = 'failed', problem = $2,
                  updated_at = statement_timestamp(), finished_at = statement_timestamp() WHERE id = $1 AND {_UNFINISHED}""",
        job_id, json.dumps(problem),
    )


async def finish(
    conn: asyncpg.Connection, job_id: uuid.UUID, report: BulkReport, problem: dict[str, Any] | None, bytes_read: int
) -> bool:
    """The final state and report, written in the load's own transaction; False when the job
    had already finished (then the caller rolls its load back)."""
    found = await conn.fetchval(
        f"""UPDATE bulk_jobs SET state = $2, report = $3, problem = $4, bytes_read = $5, rows_read = $6,
               updated_at = statement_timestamp(), finished_at = statement_timestamp() WHERE id = $1 AND {_UNFINISHED}
           RETURNING id""",
        job_id, "failed" if problem else "succeeded", report.model_dump_json(),
        json.dumps(problem) if problem else None, bytes_read, report.received,
    )
    return found is not None

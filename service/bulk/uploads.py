"""The SQL of async jobs' uploads: `bulk_uploads`, the file in pieces, in the database so
that a worker on any machine reads it; through the load's raw connection like job_rows."""

import json
import uuid
from typing import IO, Any

import asyncpg

CHUNK_BYTES = 1024 * 1024


async def store(conn: asyncpg.Connection, job_id: uuid.UUID, body: IO[bytes]) -> None:
    """Copy the spooled body into the job's pieces, one piece in memory at a time."""
    seq = 0
    while data := body.read(CHUNK_BYTES):
        await conn.execute("INSERT INTO bulk_uploads (job_id, seq, data) VALUES ($1, $2, $3)", job_id, seq, data)
        seq += 1


async def read_into(conn: asyncpg.Connection, job_id: uuid.UUID, spool: IO[bytes]) -> None:
    """Write the job's pieces, in order, to spool (then rewound), one piece in memory at a time."""
    seq = 0
    while (data := await conn.fetchval("SELECT data FROM bulk_uploads WHERE job_id = $1 AND seq = $2", job_id, seq)) is not None:
        spool.write(data)
        seq += 1
    spool.seek(0)


async def discard(conn: asyncpg.Connection, job_id: uuid.UUID) -> None:
    await conn.execute("DELETE FROM bulk_uploads WHERE job_id = $1", job_id)


async def purge_orphans(conn: asyncpg.Connection, stranded: dict[str, Any]) -> int:
    """Delete the pieces no job will read: those of finished jobs (a job's end deletes its
    own, so these are left by a crash between the two), and fail the jobs whose task is gone
    (failed for good, or deleted) with the problem `stranded`, and theirs. Returns the jobs
    whose pieces were deleted."""
    await conn.execute(
        """UPDATE bulk_jobs j SET state = 'failed', problem = $1,
                  updated_at = statement_timestamp(), finished_at = statement_timestamp()
           WHERE j.state IN ('queued', 'running')
             AND NOT EXISTS (SELECT FROM procrastinate_jobs t WHERE t.lock = 'bulk:' || j.id AND t.status IN ('todo', 'doing'))""",
        json.dumps(stranded),
    )
    deleted = await conn.fetch(
        """DELETE FROM bulk_uploads u USING bulk_jobs j
           WHERE u.job_id = j.id AND j.state IN ('succeeded', 'failed') RETURNING u.job_id"""
    )
    return len({row["job_id"] for row in deleted})

"""SQL of the task queue: enqueueing inside the caller's transaction, and its depth.

procrastinate's own `defer_async` uses a connection of its own, so a job deferred during a
request would exist even if the request's transaction rolled back (and the job would look for
data that never committed). Inserting into its jobs table in the request's own transaction
makes a job exist exactly when its data does; procrastinate's insert trigger wakes workers.
"""

import json
from datetime import datetime
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

_DEFER = text(
    "INSERT INTO procrastinate_jobs (queue_name, task_name, lock, queueing_lock, args, scheduled_at) "
    "VALUES (:queue, :task, :lock, :queueing_lock, CAST(:args AS jsonb), :scheduled_at) "
    "ON CONFLICT DO NOTHING RETURNING id"
)


async def defer(
    session: AsyncSession, task: str, args: dict[str, Any], *, queue: str = "default", lock: str | None = None,
    queueing_lock: str | None = None, scheduled_at: datetime | None = None,
) -> int | None:
    """Queue a task in the session's transaction; None when a job with the same queueing lock
    is already waiting (that one will do the work)."""
    job_id: int | None = await session.scalar(_DEFER, {
        "queue": queue, "task": task, "lock": lock, "queueing_lock": queueing_lock, "args": json.dumps(args),
        "scheduled_at": scheduled_at,
    })
    return job_id


async def depth(session: AsyncSession) -> dict[tuple[str, str], int]:
    """Jobs per (queue, status) among those waiting or running."""
    rows = await session.execute(text(
        "SELECT queue_name, status::text, count(*) FROM procrastinate_jobs "
        "WHERE status IN ('todo', 'doing') GROUP BY queue_name, status"
    ))
    return {(queue, status): count for queue, status, count in rows}

"""Running workers: `partnerships worker` (processes of their own) and the one
`partnerships serve` runs beside the API (TASKS__IN_PROCESS_WORKER)."""

import logging
import time
from typing import Any

from procrastinate import JobContext
from procrastinate.worker import Worker
from sqlalchemy.engine import URL

from service.ops.metrics import observe_task
from service.tasks.app import build
from service.tasks.runtime import Resources

log = logging.getLogger(__name__)


async def measured(call_next: Any, context: JobContext, worker: Worker) -> Any:
    """Task durations and outcomes in /metrics."""
    started, outcome = time.perf_counter(), "failed"
    try:
        result = await call_next()
        outcome = "succeeded"
        return result
    finally:
        name = context.job.task_name if context.job else "unknown"
        observe_task(name, outcome, time.perf_counter() - started)


async def run_worker(url: URL, service: Resources, concurrency: int, *, install_signal_handlers: bool) -> None:
    """Run a worker until cancelled (or, with signal handlers, until SIGINT/SIGTERM): jobs in
    hand are finished within the graceful timeout, then abandoned to be retried elsewhere."""
    tasks = service.settings.tasks
    queue = build(url, pool_size=concurrency + 2)
    async with queue.open_async():
        await queue.run_worker_async(
            concurrency=concurrency,
            additional_context=service.as_context(),
            install_signal_handlers=install_signal_handlers,
            update_heartbeat_interval=tasks.stalled_after_seconds / 3,
            stalled_worker_timeout=tasks.stalled_after_seconds,
            shutdown_graceful_timeout=service.settings.server.graceful_timeout,
            delete_jobs="successful",
            worker_middleware=[measured],
        )

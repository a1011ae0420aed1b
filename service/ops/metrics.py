"""Prometheus metrics, served at /metrics.

Requests are labelled by route template (`/v1/clusters/{cluster}`), never by raw path, so a
crawler cannot create a time series per URL. Metrics live in prometheus-client's default
registry, one per process: run one process per replica and scrape each.
"""

import asyncio
import logging
import os
import weakref
from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, Response
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.multiprocess import MultiProcessCollector
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from service.kit.app_state import SessionmakerDep
from service.tasks import repository as queue

log = logging.getLogger(__name__)

HTTP_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
UNMATCHED = "<unmatched>"

REQUESTS = Counter(
    "http_requests_total", "HTTP requests by method, route template and status.",
    ["method", "route", "status"],
)
LATENCY = Histogram(
    "http_request_duration_seconds", "Time to answer an HTTP request, by method and route template.",
    ["method", "route"],
)
POOL_SIZE = Gauge("db_pool_size", "Connections the database pool holds open.", ["pool"])
POOL_CHECKED_OUT = Gauge("db_pool_checked_out", "Pooled connections in use by requests.", ["pool"])
BULK_ROWS = Counter(
    "bulk_rows_total", "Rows the bulk loader handled, by resource and outcome.", ["resource", "outcome"]
)
TASKS = Counter("tasks_total", "Background tasks run, by task and outcome (succeeded, failed).", ["task", "outcome"])
TASK_DURATION = Histogram("task_duration_seconds", "Time a background task ran, by task.", ["task"])
QUEUE_JOBS = Gauge(
    "task_queue_jobs", "Background jobs waiting (todo) or running (doing), by queue; read from the database at scrape time.",
    ["queue", "status"], multiprocess_mode="mostrecent",  # with several processes: the latest scrape's reading
)
# A scrape must answer even when the database is slow or gone: the depth is then left out.
QUEUE_DEPTH_TIMEOUT_SECONDS = 1.0
RATE_LIMIT_STORAGE_ERRORS = Counter(
    "rate_limit_storage_errors_total", "Rate-limit checks skipped because the counter storage failed."
)


# The series of each (method, route, status) seen, looked up once: labels() takes a lock and
# builds its key on every call. Bounded by methods x route templates x statuses.
_request_series: dict[tuple[str, str, int], tuple[Any, Any]] = {}


def observe_request(method: str, route: str, status: int, seconds: float) -> None:
    series = _request_series.get((method, route, status))
    if series is None:
        # Clients may send any method; only the real ones get their own series.
        label = method if method in HTTP_METHODS else "OTHER"
        series = (REQUESTS.labels(label, route, str(status)), LATENCY.labels(label, route))
        if method in HTTP_METHODS:
            _request_series[(method, route, status)] = series
    series[0].inc()
    series[1].observe(seconds)


def observe_task(task: str, outcome: str, seconds: float) -> None:
    TASKS.labels(task, outcome).inc()
    TASK_DURATION.labels(task).observe(seconds)


def record_bulk_rows(resource: str, outcome: str, count: int = 1) -> None:
    """For the bulk loader: count rows of a resource by outcome (created, updated, rejected...)."""
    BULK_ROWS.labels(resource, outcome).inc(count)


def watch_pool(name: str, engine: AsyncEngine) -> None:
    """Report the engine's pool in the db_pool_* gauges, read at scrape time. The engine is
    held weakly: a disposed app's engine must not be kept alive by its metrics."""
    if _several_processes():
        return  # read at scrape time from the scraped process's own pool: one of N would mislead
    pool_of = weakref.ref(engine.sync_engine)

    def reader(method: str) -> Callable[[], float]:
        def read() -> float:
            engine = pool_of()
            measure = getattr(engine.pool, method, None) if engine is not None else None
            return float(measure()) if measure is not None else 0.0  # NullPool has no size
        return read

    POOL_SIZE.labels(name).set_function(reader("size"))
    POOL_CHECKED_OUT.labels(name).set_function(reader("checkedout"))


_queue_series: set[tuple[str, str]] = set()


async def read_queue_depth(sessionmaker: async_sessionmaker[AsyncSession]) -> None:
    """Set task_queue_jobs from the database. A queue that has emptied reads 0 rather than
    vanishing, so that a graph of it falls to 0; on failure the series are dropped, not left stale."""
    try:
        async with asyncio.timeout(QUEUE_DEPTH_TIMEOUT_SECONDS), sessionmaker() as session:
            depth = await queue.depth(session)
    except (TimeoutError, OSError, SQLAlchemyError) as exc:
        log.warning("queue depth not read for /metrics: %s", exc)
        QUEUE_JOBS.clear()
        _queue_series.clear()
        return
    _queue_series.update((q, status) for q, _ in depth for status in ("todo", "doing"))
    for series in _queue_series:
        QUEUE_JOBS.labels(*series).set(depth.get(series, 0))


def _several_processes() -> bool:
    """`serve --workers N`: every process writes its metrics to files in this directory."""
    return bool(os.environ.get("PROMETHEUS_MULTIPROC_DIR"))


def exposition() -> bytes:
    """The metrics of this process, or with several processes the sum of all of them (and of
    the task worker's), as prometheus-client's multiprocess mode collects them."""
    if not _several_processes():
        return generate_latest()
    registry = CollectorRegistry()
    MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
    return generate_latest(registry)


router = APIRouter(include_in_schema=False)


@router.get("/metrics")
async def metrics(sessionmaker: SessionmakerDep) -> Response:
    await read_queue_depth(sessionmaker)
    return Response(exposition(), media_type=CONTENT_TYPE_LATEST)

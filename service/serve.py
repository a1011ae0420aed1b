"""Serving the API: one process, or one per core (`partnerships serve --workers N`).

With several processes, everything that must happen once happens in the process that starts
them, before they start: the embedded PostgreSQL (its URL is handed to them), the migrations,
and the task worker, which runs as one process of its own beside the API processes rather
than inside each of them (a job would otherwise be raced for by N workers, and N upkeep
schedules would run). Metrics of all of them are summed at every /metrics (prometheus-client's
multiprocess mode), and rate limits must be counted where every process sees them: in Redis.
"""

import os
import shutil
import subprocess
import sys
import tempfile
from typing import Any

import uvicorn
from fastapi import FastAPI

from service.config import Settings, get_settings

MULTIPROCESS_DIRECTORY = "PROMETHEUS_MULTIPROC_DIR"


class UnsharedLimits(ValueError):
    """Several processes would each count a client's requests on their own."""


def _uvicorn_options(settings: Settings, host: str, port: int) -> dict[str, Any]:
    return {
        "host": host,
        "port": port,
        # Logging is configured by the command (LOG__FORMAT, LOG__LEVEL); uvicorn's own access
        # log is off because it prints query strings, which may carry credentials.
        "log_config": None,
        "access_log": False,
        "timeout_graceful_shutdown": settings.server.graceful_timeout,
        "proxy_headers": True,
        "forwarded_allow_ips": settings.server.forwarded_allow_ips,
    }


def check_workers(settings: Settings, workers: int) -> None:
    limits = settings.limits
    limited = limits.reads_per_minute or limits.writes_per_minute or limits.auth_failures_per_minute
    if workers > 1 and limited and not settings.redis_url:
        raise UnsharedLimits(
            "several server processes would each count rate limits on their own (a client would get "
            f"{workers} times its quota): set REDIS_URL, or turn the limits off (LIMITS__*_PER_MINUTE=0)"
        )


def run(settings: Settings, host: str, port: int, workers: int) -> None:
    """Serve until stopped (SIGTERM, SIGINT)."""
    from service.main import create_app

    if workers == 1:
        uvicorn.run(create_app(settings), **_uvicorn_options(settings, host, port))
        return
    check_workers(settings, workers)
    from service.db import database_url

    metrics_dir = tempfile.mkdtemp(prefix="partnerships-metrics-")
    shared = {
        # The embedded PostgreSQL, if any, is already running: every process uses the same one.
        "DATABASE_URL": database_url(settings).render_as_string(hide_password=False),
        MULTIPROCESS_DIRECTORY: metrics_dir,
    }
    os.environ.update(shared | {"TASKS__IN_PROCESS_WORKER": "false"})
    tasks = None
    if settings.tasks.in_process_worker:
        tasks = subprocess.Popen([sys.executable, "-m", "service.cli", "worker"])
    try:
        uvicorn.run("service.serve:worker_app", factory=True, workers=workers, **_uvicorn_options(settings, host, port))
    finally:
        if tasks is not None:
            tasks.terminate()
            tasks.wait(settings.server.graceful_timeout + 10)
        shutil.rmtree(metrics_dir, ignore_errors=True)


def worker_app() -> FastAPI:
    """The app of one of several server processes (each a fresh interpreter)."""
    from service.main import create_app
    from service.ops.logging import configure_logging

    settings = get_settings()
    configure_logging(settings.log)
    return create_app(settings)

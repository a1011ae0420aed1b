"""Task counts and durations of a real `partnerships worker`, on its own /metrics."""

import asyncio
import json
import time

import asyncpg
import httpx
from prometheus_client.parser import text_string_to_metric_families

from tests.conftest import _asyncpg_dsn
from tests.ops.conftest import WorkerProcess, free_port, url_text


async def _samples(url: str) -> dict[tuple, float]:
    async with httpx.AsyncClient() as client:
        response = await client.get(url)
    assert response.status_code == 200
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(response.text) for s in family.samples
    }


async def test_a_worker_reports_its_tasks_outcomes_and_durations(live_database, tmp_path):
    port = free_port()
    connection = await asyncpg.connect(**_asyncpg_dsn(live_database))
    try:
        queue = "INSERT INTO procrastinate_jobs (queue_name, task_name, args) VALUES ($1, $2, $3)"
        await connection.execute(queue, "default", "upkeep:retry_stalled", json.dumps({"timestamp": 0}))
        await connection.execute(queue, "bulk", "bulk:run", json.dumps({"job_id": "not even a uuid"}))  # fails
    finally:
        await connection.close()
    worker = WorkerProcess({"DATABASE_URL": url_text(live_database), "TASKS__METRICS_PORT": str(port)}, tmp_path / "worker.log")
    try:
        await worker.wait_ready()
        succeeded = ("tasks_total", (("outcome", "succeeded"), ("task", "upkeep:retry_stalled")))
        failed = ("tasks_total", (("outcome", "failed"), ("task", "bulk:run")))
        deadline = time.monotonic() + 20
        while True:
            samples = await _samples(f"http://127.0.0.1:{port}/metrics")
            if samples.get(succeeded) and samples.get(failed):
                break
            assert time.monotonic() < deadline, {k: v for k, v in samples.items() if k[0].startswith("task")}
            await asyncio.sleep(0.1)
        assert samples[("task_duration_seconds_count", (("task", "upkeep:retry_stalled"),))] >= 1
        assert samples[("task_duration_seconds_count", (("task", "bulk:run"),))] == 1
    finally:
        worker.stop()

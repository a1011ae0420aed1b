"""Async bulk jobs run by real `partnerships worker` processes: a worker killed mid-load
leaves nothing of it, and another worker runs the job again, once."""

import asyncio
import time

import asyncpg

from service.config import BulkSettings
from tests.bulk.helpers import ndjson
from tests.conftest import _asyncpg_dsn
from tests.ops.conftest import WorkerProcess, admin_key_in, live_client, live_settings, url_text

RECORDS = 60_000
STALLED_AFTER_SECONDS = 1


async def _job_until(client, path: str, done, timeout: float) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job = (await client.get(path)).json()
        if done(job):
            return job
        await asyncio.sleep(0.05)
    raise AssertionError(f"the job did not get there within {timeout} s: {job}")


async def _count(url, sql: str, *args) -> int:
    connection = await asyncpg.connect(**_asyncpg_dsn(url))
    try:
        return await connection.fetchval(sql, *args)
    finally:
        await connection.close()


async def test_a_job_whose_worker_is_killed_is_run_again_by_another_once(live_database, tmp_path):
    key = await admin_key_in(live_database)
    env = {
        "DATABASE_URL": url_text(live_database), "TASKS__STALLED_AFTER_SECONDS": str(STALLED_AFTER_SECONDS),
        "BULK__BATCH_ROWS": "2000",  # progress shows early, long before the merge
    }
    records = [{"slug": f"killed-worker-{n}", "name": f"Killed worker {n}", "country": "FR"} for n in range(RECORDS)]
    body = ndjson(*records)
    timings = {}
    first = WorkerProcess(env, tmp_path / "worker-a.log")
    second = None
    settings = live_settings(live_database, bulk=BulkSettings(max_queued_bytes_per_key=len(body)))
    try:
        await first.wait_ready()
        async with live_client(settings, key=key) as client:
            started = time.monotonic()
            response = await client.post("/v1/bulk/clusters", content=body, params={"async": "true"},
                                         headers={"Content-Type": "application/x-ndjson"})
            assert response.status_code == 202, response.text
            path = response.headers["Location"]
            running = await _job_until(client, path, lambda j: j["state"] == "running" and j["rows_read"] > 0, 30)
            timings["running after"] = time.monotonic() - started
            first.kill()
            assert (await client.get(path)).json()["state"] == "running", "the job finished before its worker was killed"
            assert 0 < running["rows_read"] < RECORDS
            assert await _count(live_database, "SELECT count(*) FROM clusters WHERE slug LIKE 'killed-worker-%'") == 0

            killed = time.monotonic()
            second = WorkerProcess(env, tmp_path / "worker-b.log")
            job = await _job_until(client, path, lambda j: j["state"] in ("succeeded", "failed"), 90)
            timings["finished after the kill"] = time.monotonic() - killed
            assert job["state"] == "succeeded", job
            assert job["report"]["created"] == RECORDS and job["rows_read"] == RECORDS
        assert await _count(live_database, "SELECT count(*) FROM clusters WHERE slug LIKE 'killed-worker-%'") == RECORDS
        assert await _count(live_database, "SELECT count(DISTINCT slug) FROM clusters WHERE slug LIKE 'killed-worker-%'") == RECORDS
        assert await _count(live_database, "SELECT count(*) FROM bulk_uploads WHERE job_id = $1::uuid", job["id"]) == 0
        await second.wait_logged("retrying job")
        print(f"\n{RECORDS} records, {len(body)} bytes: " + ", ".join(f"{k} {v:.1f} s" for k, v in timings.items()))
    finally:
        first.stop()
        if second:
            second.stop()

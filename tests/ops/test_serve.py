"""`partnerships serve` as a real process: graceful shutdown, JSON logs, streamed bodies."""

import asyncio
import json
import time

import httpx
import pytest

from tests.ops.conftest import ServeProcess, table_locked, url_text, wait_for_lock_waiters

pytestmark = pytest.mark.slow


@pytest.fixture
def serve(tmp_path, live_database):
    processes = []

    def start(**env) -> ServeProcess:
        process = ServeProcess({"DATABASE_URL": url_text(live_database), **env}, tmp_path / f"serve-{len(processes)}.log")
        processes.append(process)
        return process

    yield start
    for process in processes:
        process.stop()


async def test_sigterm_lets_the_request_in_flight_finish(serve, live_database):
    server = serve(SERVER__GRACEFUL_TIMEOUT="10")
    await server.wait_ready()
    async with httpx.AsyncClient(base_url=server.base_url, timeout=15) as client:
        async with table_locked(live_database, "sectors"):
            in_flight = asyncio.create_task(client.get("/v1/sectors", headers={"X-Request-ID": "in-flight-1"}))
            await wait_for_lock_waiters(live_database)
            server.terminate()
            await asyncio.sleep(0.5)
            assert server.process.poll() is None, "the server exited with a request in flight"
            with pytest.raises(httpx.ConnectError):  # no new connections while draining
                async with httpx.AsyncClient() as other:
                    await other.get(f"{server.base_url}/healthz")
        response = await in_flight  # the lock is released: the request completes
    assert response.status_code == 200 and response.json()["items"]
    assert await asyncio.to_thread(server.process.wait, 10) == 0

    records = [json.loads(line) for line in server.log_text().splitlines() if line.startswith("{")]
    access = [r for r in records if r.get("request_id") == "in-flight-1" and r["logger"] == "partnerships.access"]
    assert len(access) == 1 and access[0]["status"] == 200 and access[0]["path"] == "/v1/sectors"
    assert all(line.startswith("{") for line in server.log_text().splitlines() if line.strip()), "a log line is not JSON"
    assert "color_message" not in server.log_text()


async def test_graceful_timeout_bounds_the_wait_for_stuck_requests(serve, live_database):
    server = serve(SERVER__GRACEFUL_TIMEOUT="1")
    await server.wait_ready()
    async with httpx.AsyncClient(base_url=server.base_url, timeout=15) as client:
        async with table_locked(live_database, "sectors"):
            stuck = asyncio.create_task(client.get("/v1/sectors"))
            await wait_for_lock_waiters(live_database)
            started = time.monotonic()
            server.terminate()
            exit_code = await asyncio.to_thread(server.process.wait, 10)
            elapsed = time.monotonic() - started
        response = await stuck
    # Past the graceful timeout the request is cancelled, and says so: 503, not a bare 500.
    assert response.status_code == 503 and response.headers["Retry-After"] == "1"
    assert response.headers["content-type"] == "application/problem+json"
    assert "shutting down" in response.json()["detail"]
    assert exit_code == 0
    assert 0.9 < elapsed < 4


async def test_a_chunked_upload_over_the_limit_is_refused_over_real_http(serve):
    server = serve(LIMITS__MAX_JSON_BYTES="10000")
    await server.wait_ready()

    async def chunks():
        for _ in range(1000):  # 1 MB, chunked, against a 10 kB limit
            yield b" " * 1000

    async with httpx.AsyncClient(base_url=server.base_url, timeout=10) as client:
        response = await client.post("/v1/clusters", content=chunks(), headers={"Content-Type": "application/json"})
        assert response.status_code == 413
        assert response.headers["content-type"] == "application/problem+json"
        assert (await client.get("/healthz")).status_code == 200

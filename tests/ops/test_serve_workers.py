"""`partnerships serve --workers N`: several processes behind one port, as a real server."""

import asyncio
import os
import re
import signal
import subprocess

import httpx
import pytest

from tests.ops.conftest import ServeProcess, admin_key_in, url_text

pytestmark = pytest.mark.slow


@pytest.fixture
def serve(tmp_path, live_database):
    processes = []

    def start(*args: str, **env) -> ServeProcess:
        process = ServeProcess({"DATABASE_URL": url_text(live_database), **env}, tmp_path / f"serve-{len(processes)}.log", args)
        processes.append(process)
        return process

    yield start
    for process in processes:
        process.stop()


def _children(pid: int) -> list[tuple[int, str]]:
    out = subprocess.run(["ps", "-ww", "-o", "pid=,args=", "--ppid", str(pid)], capture_output=True, text=True).stdout
    return [(int(pid_), args) for pid_, args in (line.strip().split(" ", 1) for line in out.splitlines() if line.strip())]


def _server_processes(pid: int) -> list[int]:
    # uvicorn spawns its workers with multiprocessing; the task worker runs `worker`.
    return [child for child, args in _children(pid) if "multiprocessing.spawn" in args]


async def _fresh_get(server: ServeProcess, path: str, **headers) -> httpx.Response:
    # A connection per request, so that the kernel hands each to whichever process accepts.
    async with httpx.AsyncClient(base_url=server.base_url, timeout=10) as client:
        return await client.get(path, headers=headers)


async def test_each_of_two_server_processes_answers_alone(serve, redis_url):
    server = serve("--workers", "2", REDIS_URL=redis_url)
    await server.wait_ready()
    processes = _server_processes(server.process.pid)
    assert len(processes) == 2, _children(server.process.pid)
    for stopped in processes:
        os.kill(stopped, signal.SIGSTOP)
        try:
            for _ in range(4):
                assert (await _fresh_get(server, "/v1/sectors")).status_code == 200
        finally:
            os.kill(stopped, signal.SIGCONT)


async def test_rate_limits_are_counted_once_across_processes(serve, redis_url, live_database):
    key = await admin_key_in(live_database)
    server = serve("--workers", "2", REDIS_URL=redis_url, LIMITS__READS_PER_MINUTE="5")
    await server.wait_ready()
    statuses = [(await _fresh_get(server, "/v1/sectors", Authorization=f"Bearer {key}")).status_code for _ in range(8)]
    assert statuses == [200] * 5 + [429] * 3


async def test_metrics_sum_every_process_and_the_task_worker_runs_once(serve, redis_url):
    server = serve("--workers", "2", REDIS_URL=redis_url, TASKS__IN_PROCESS_WORKER="true")
    await server.wait_ready()
    await server.wait_logged("Starting worker on all queues")
    workers = [args for _, args in _children(server.process.pid) if args.endswith("service.cli worker")]
    assert len(workers) == 1, _children(server.process.pid)
    await asyncio.sleep(2)  # both server processes are up by now, and ran no worker of their own
    assert server.log_text().count("Starting worker on all queues") == 1
    for _ in range(12):
        assert (await _fresh_get(server, "/v1/sectors")).status_code == 200
    text = (await _fresh_get(server, "/metrics")).text
    counted = re.search(r'http_requests_total\{method="GET",route="/v1/sectors",status="200"\} ([\d.e+]+)', text)
    assert counted is not None and float(counted.group(1)) == 12, text
    assert "pid=" not in text  # summed, not a series per process
    assert "db_pool_size" not in text  # one process's pool would mislead


async def test_several_processes_without_shared_rate_limits_refuse_to_start(serve):
    server = serve("--workers", "2")
    assert await asyncio.to_thread(server.process.wait, 30) == 2
    assert "REDIS_URL" in server.log_text()


async def test_the_embedded_postgresql_is_started_once_for_every_process(tmp_path, monkeypatch):
    env = {"EMBEDDED__DATA_DIR": str(tmp_path / "pgdata"), "LIMITS__READS_PER_MINUTE": "0",
           "LIMITS__WRITES_PER_MINUTE": "0", "LIMITS__AUTH_FAILURES_PER_MINUTE": "0"}
    monkeypatch.delenv("DATABASE_URL", raising=False)
    server = ServeProcess(env, tmp_path / "serve.log", ("--workers", "2"))
    try:
        await server.wait_ready(timeout=90)
        for _ in range(4):
            assert (await _fresh_get(server, "/v1/sectors")).status_code == 200
        assert server.log_text().count("embedded PostgreSQL running with its data in") == 1
    finally:
        server.stop()
    assert "embedded PostgreSQL stopped" in server.log_path.read_text()

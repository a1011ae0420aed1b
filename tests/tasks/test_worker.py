"""The task queue with real `partnerships worker` processes on a committed database."""

import asyncio
import time
import uuid

import asyncpg
import pytest

from tests.conftest import _asyncpg_dsn
from tests.ops.conftest import WorkerProcess, migrated_scratch_database, url_text


@pytest.fixture
async def database(server_url):
    from tests.conftest import drop_database

    url = await migrated_scratch_database(server_url)
    yield url
    await drop_database(server_url, url)


@pytest.fixture
async def worker(database, tmp_path):
    process = WorkerProcess({"DATABASE_URL": url_text(database), "TASKS__STALLED_AFTER_SECONDS": "3"}, tmp_path / "worker.log")
    try:
        await process.wait_ready()
        yield process
    finally:
        process.stop()


async def _eventually(connection: asyncpg.Connection, query: str, expected: object, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while (value := await connection.fetchval(query)) != expected:
        if time.monotonic() > deadline:
            raise AssertionError(f"{query!r} gave {value!r}, not {expected!r}, after {timeout} s")
        await asyncio.sleep(0.1)


async def test_a_committed_event_is_dispatched_by_a_worker_and_a_rolled_back_one_queues_nothing(database, worker):
    connection = await asyncpg.connect(**_asyncpg_dsn(database))
    try:
        insert = "INSERT INTO events (type, resource_id, data) VALUES ('cluster.created', $1, '{}') RETURNING id"
        transaction = connection.transaction()
        await transaction.start()
        await connection.fetchval(insert, uuid.uuid4())
        await transaction.rollback()
        assert await connection.fetchval("SELECT count(*) FROM procrastinate_jobs WHERE task_name = 'events:dispatch'") == 0

        event_id = await connection.fetchval(insert, uuid.uuid4())
        await _eventually(connection, "SELECT event_id FROM event_consumers WHERE name = 'dispatch'", event_id)
    finally:
        await connection.close()


async def test_expired_idempotency_answers_are_purged_by_the_periodic_task(database, worker):
    connection = await asyncpg.connect(**_asyncpg_dsn(database))
    try:
        await connection.execute(
            "INSERT INTO idempotency_records (client, key, created_at) VALUES "
            "('c', 'old', now() - interval '25 hours'), ('c', 'new', now())"
        )
        # Queued as the periodic deferrer does each minute (not waited for: procrastinate's own).
        await connection.execute(
            "INSERT INTO procrastinate_jobs (queue_name, task_name, args) VALUES ('default', 'upkeep:purge', '{\"timestamp\": 0}')"
        )
        await _eventually(connection, "SELECT string_agg(key, ',') FROM idempotency_records", "new")
    finally:
        await connection.close()


async def test_a_worker_stops_on_sigterm(worker):
    worker.terminate()
    assert await asyncio.to_thread(worker.process.wait, 20) == 0

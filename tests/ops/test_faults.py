"""Database faults answer 503 problem+json with Retry-After, quickly, and heal by themselves.

These run apps with their own engine against `live_database` (see conftest.py).
"""

import asyncio
import secrets
import socket
import time
from collections import Counter
from contextlib import closing

import asyncpg
import pytest

from service.access import keys
from service.config import DatabaseSettings
from service.migrate import upgrade
from tests.conftest import _asyncpg_dsn, create_scratch_database, drop_database
from tests.ops.conftest import (
    admin_key_in,
    free_port,
    live_client,
    live_settings,
    table_locked,
    wait_for_lock_waiters,
)
from tests.problems import assert_problem


def assert_unavailable(response) -> dict:
    problem = assert_problem(response, 503)
    assert int(response.headers["Retry-After"]) >= 1
    return problem


@pytest.mark.parametrize("pgbouncer", [False, True], ids=["startup-parameter", "set-local"])
async def test_a_statement_over_the_timeout_answers_503_promptly(live_database, pgbouncer):
    # DB__PGBOUNCER sets the timeout per transaction instead of per connection; both must hold.
    settings = live_settings(live_database, db=DatabaseSettings(statement_timeout_ms=300, pgbouncer=pgbouncer))
    async with live_client(settings) as client, table_locked(live_database, "sectors"):
        started = time.monotonic()
        async with asyncio.timeout(5):  # without a working timeout the request would wait forever
            problem = assert_unavailable(await client.get("/v1/sectors"))
        elapsed = time.monotonic() - started
    assert "took too long" in problem["detail"]
    assert 0.25 < elapsed < 1.5


async def test_waiting_for_a_pooled_connection_answers_503_after_the_pool_timeout(live_database):
    db = DatabaseSettings(pool_size=1, max_overflow=0, pool_timeout=0.3, statement_timeout_ms=10_000)
    async with live_client(live_settings(live_database, db=db)) as client:
        async with table_locked(live_database, "sectors"):
            holder = asyncio.create_task(client.get("/v1/sectors"))  # takes the only connection, waits
            await wait_for_lock_waiters(live_database)
            metrics = (await client.get("/metrics")).text
            assert 'db_pool_checked_out{pool="primary"} 1.0' in metrics
            assert 'db_pool_size{pool="primary"} 1.0' in metrics
            started = time.monotonic()
            problem = assert_unavailable(await client.get("/v1/clusters"))
            elapsed = time.monotonic() - started
        assert (await holder).status_code == 200  # the lock released, the first request completes
    assert "connections are busy" in problem["detail"]
    assert 0.25 < elapsed < 2.0


async def test_a_database_that_refuses_connections_answers_503_within_a_second():
    with closing(socket.socket()) as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed once the block ends: connections are refused
    settings = live_settings(f"postgresql://postgres@127.0.0.1:{port}/nowhere")
    # A well-formed key: checking it needs the database, so a write answers 503 too.
    async with live_client(settings, key=keys.new_key()[0]) as client:
        for method, path, body in [("GET", "/v1/clusters", None), ("POST", "/v1/sectors", {"code": "x", "name": "X"}), ("GET", "/readyz", None)]:
            started = time.monotonic()
            assert_unavailable(await client.request(method, path, json=body))
            assert time.monotonic() - started < 1.0, (method, path)
        assert (await client.get("/healthz")).status_code == 200


async def test_a_database_that_never_answers_is_given_up_after_the_connect_timeout():
    with closing(socket.socket()) as listener:  # accepts TCP connections, never speaks
        listener.bind(("127.0.0.1", free_port()))
        listener.listen(16)
        port = listener.getsockname()[1]
        settings = live_settings(f"postgresql://postgres@127.0.0.1:{port}/silent", db=DatabaseSettings(connect_timeout=0.5))
        async with live_client(settings) as client:
            started = time.monotonic()
            assert_unavailable(await client.get("/v1/clusters"))
            elapsed = time.monotonic() - started
    assert 0.4 < elapsed < 2.0


async def test_a_saturated_database_answers_503(live_database):
    """Connections refused with "too many connections" (53300) at connect time."""
    role = f"ops_saturated_{secrets.token_hex(4)}"
    admin = await asyncpg.connect(**_asyncpg_dsn(live_database))
    await admin.execute(f"CREATE ROLE {role} LOGIN CONNECTION LIMIT 1")
    await admin.execute(f"GRANT SELECT ON ALL TABLES IN SCHEMA public TO {role}")
    try:
        url = live_database.set(username=role, password=None)
        holder = await asyncpg.connect(**_asyncpg_dsn(url))  # the role's one connection
        try:
            async with live_client(live_settings(url)) as client:
                started = time.monotonic()
                problem = assert_unavailable(await client.get("/v1/sectors"))
                assert time.monotonic() - started < 1.0
            assert "saturated" in problem["detail"]
        finally:
            await holder.close()
        async with live_client(live_settings(url)) as client:
            assert (await client.get("/v1/sectors")).status_code == 200
    finally:
        await admin.execute(f"REVOKE ALL ON ALL TABLES IN SCHEMA public FROM {role}")
        await admin.execute(f"DROP ROLE {role}")
        await admin.close()


async def test_terminated_connections_give_503s_never_500s_and_service_resumes(live_database):
    """pg_terminate_backend on the app's connections, repeatedly, while requests flow."""
    statuses: list[int] = []
    stop = asyncio.Event()
    # Rate limits off: the traffic runs for a second as fast as it can, and on a fast
    # machine its writes would pass the default 120 a minute.
    settings = live_settings(
        live_database, db=DatabaseSettings(pool_size=4, max_overflow=0), limits={"reads_per_minute": 0, "writes_per_minute": 0}
    )

    async with live_client(settings, key=await admin_key_in(live_database)) as client:
        async def traffic(worker: int) -> None:
            n = 0
            while not stop.is_set():
                n += 1
                if n % 3 == 0:
                    code = f"ops-kill-{worker}-{n}"
                    response = await client.post("/v1/sectors", json={"code": code, "name": code})
                else:
                    response = await client.get("/v1/sectors", params={"limit": 5})
                statuses.append(response.status_code)

        admin = await asyncpg.connect(**_asyncpg_dsn(live_database))
        try:
            workers = [asyncio.create_task(traffic(i)) for i in range(4)]
            killed = 0
            for _ in range(10):
                await asyncio.sleep(0.1)
                killed += await admin.fetchval(
                    "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                    "WHERE datname = $1 AND application_name = 'partnerships' AND pid <> pg_backend_pid()",
                    live_database.database,
                )
            stop.set()
            await asyncio.gather(*workers)
        finally:
            await admin.close()

        counts = Counter(statuses)
        print(f"\n{killed} connections terminated under {len(statuses)} requests: {dict(sorted(counts.items()))}")
        assert killed >= 5 and len(statuses) >= 20
        assert set(statuses) <= {200, 201, 503}, sorted(set(statuses))
        after = [(await client.get("/v1/sectors")).status_code for _ in range(20)]
        assert after == [200] * 20
        assert (await client.get("/readyz")).status_code == 200


async def test_readiness_needs_a_migrated_database(server_url, live_database):
    async with live_client(live_settings(live_database)) as client:
        ready = await client.get("/readyz")
        assert ready.status_code == 200 and ready.json() == {"status": "ready"}

    bare = await create_scratch_database(server_url)
    try:
        async with live_client(live_settings(bare)) as client:
            problem = assert_unavailable(await client.get("/readyz"))
            assert "not migrated" in problem["detail"]
            assert (await client.get("/healthz")).status_code == 200
    finally:
        await drop_database(server_url, bare)


async def test_replicas_migrating_a_new_database_at_once_take_turns(server_url):
    from sqlalchemy.ext.asyncio import create_async_engine
    from sqlalchemy.pool import NullPool

    url = await create_scratch_database(server_url)
    engines = [create_async_engine(url, poolclass=NullPool) for _ in range(3)]
    try:
        await asyncio.gather(*(upgrade(engine) for engine in engines))
    finally:
        for engine in engines:
            await engine.dispose()
        await drop_database(server_url, url)




@pytest.mark.slow
async def test_the_service_recovers_by_itself_when_postgresql_restarts(tmp_path, record_property):
    """An embedded PostgreSQL of its own is stopped and started again under the app."""
    from pgserver._commands import pg_ctl

    from service.db import _embedded_servers, start_embedded, stop_embedded

    data_dir = tmp_path / "pgdata"
    url = start_embedded(data_dir)
    system_user = _embedded_servers[str(data_dir)][0].system_user
    socket_dir = url.query["host"]
    try:
        await migrated_database_at(url)
        async with live_client(live_settings(url)) as client:
            assert (await client.get("/v1/sectors")).status_code == 200

            await asyncio.to_thread(pg_ctl, ["-w", "-m", "fast", "stop"], pgdata=data_dir, user=system_user)
            down_latencies = []
            for _ in range(10):
                started = time.monotonic()
                assert_unavailable(await client.get("/v1/sectors"))
                down_latencies.append(time.monotonic() - started)
            assert_unavailable(await client.get("/readyz"))

            # Requests keep coming while the server starts ("the database system is
            # starting up"), as they would from real clients.
            statuses: list[int] = []
            starting = asyncio.create_task(asyncio.to_thread(
                pg_ctl,
                ["-w", "-o", '-h ""', "-o", f"-k {socket_dir}", "-l", str(data_dir / "log"), "start"],
                pgdata=data_dir, user=system_user,
            ))
            while not starting.done():
                statuses.append((await client.get("/v1/sectors")).status_code)
                await asyncio.sleep(0.02)
            await starting
            restarted = time.monotonic()
            while time.monotonic() - restarted < 10:
                statuses.append((await client.get("/v1/sectors")).status_code)
                if statuses[-1] == 200:
                    break
                await asyncio.sleep(0.05)
            recovery = time.monotonic() - restarted
            after = [(await client.get("/v1/sectors")).status_code for _ in range(10)]
    finally:
        stop_embedded(data_dir)

    record_property("max_503_latency_while_down_s", round(max(down_latencies), 3))
    record_property("recovery_after_restart_s", round(recovery, 3))
    print(f"\nPostgreSQL down: 503 in at most {max(down_latencies) * 1000:.0f} ms; "
          f"first 200 {recovery * 1000:.0f} ms after the server was back ({len(statuses)} requests)")
    assert max(down_latencies) < 1.0
    assert statuses[-1] == 200 and set(statuses) <= {200, 503}
    assert after == [200] * 10
    assert recovery < 2.0


async def migrated_database_at(url) -> None:
    from sqlalchemy.ext.asyncio import create_async_engine
    from sqlalchemy.pool import NullPool

    engine = create_async_engine(url, poolclass=NullPool)
    try:
        await upgrade(engine)
    finally:
        await engine.dispose()

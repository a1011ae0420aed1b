"""Scale-out: a read replica for GET/HEAD, and replicas behind PgBouncer sharing Redis."""

import asyncio
import os
import pwd
import secrets
import shutil
import subprocess
import tempfile
import time
from collections import Counter
from pathlib import Path

import asyncpg
import httpx
import pytest
from sqlalchemy.engine import URL

from service.config import DatabaseSettings
from tests.conftest import _asyncpg_dsn, drop_database
from tests.ops.conftest import (
    ServeProcess,
    admin_key_in,
    free_port,
    live_client,
    live_settings,
    migrated_scratch_database,
    url_text,
)
from tests.problems import assert_problem


@pytest.fixture
async def replica_database(server_url):
    """A second migrated database standing in for a read replica, with a row of its own."""
    url = await migrated_scratch_database(server_url)
    connection = await asyncpg.connect(**_asyncpg_dsn(url))
    try:
        await connection.execute("INSERT INTO sectors (code, name, kind) VALUES ('replica-only', 'Replica only', 'sector')")
    finally:
        await connection.close()
    yield url
    await drop_database(server_url, url)


async def test_reads_go_to_the_replica_and_writes_to_the_primary(live_database, replica_database):
    settings = live_settings(live_database).model_copy(update={"database_replica_url": url_text(replica_database)})
    code = f"primary-{secrets.token_hex(4)}"
    key = await admin_key_in(live_database)
    await admin_key_in(replica_database, key)  # as replication would have copied it
    async with live_client(settings, key=key) as client:
        assert (await client.get("/v1/sectors/replica-only")).status_code == 200
        created = await client.post("/v1/sectors", json={"code": code, "name": "Written to the primary"})
        assert created.status_code == 201
        assert_problem(await client.get(f"/v1/sectors/{code}"), 404)  # the "replica" never got it
        # Writes read what they change on the primary, where replica-only does not exist.
        assert_problem(await client.patch("/v1/sectors/replica-only", json={"name": "x"}), 404)
        assert (await client.get("/readyz")).status_code == 200
        assert 'db_pool_size{pool="replica"}' in (await client.get("/metrics")).text


async def test_an_unreachable_replica_makes_the_service_unready(live_database):
    settings = live_settings(live_database).model_copy(
        update={"database_replica_url": f"postgresql://postgres@127.0.0.1:{free_port()}/gone"}
    )
    async with live_client(settings, key=await admin_key_in(live_database)) as client:
        assert_problem(await client.get("/readyz"), 503)
        assert_problem(await client.get("/v1/sectors"), 503)
        assert (await client.post("/v1/sectors", json={"code": f"w-{secrets.token_hex(4)}", "name": "W"})).status_code == 201


class PgBouncer:
    """PgBouncer in transaction mode in front of the test server, with very few server
    connections so that consecutive transactions of one client land on different ones."""

    def __init__(self, server: URL, pool_size: int = 2) -> None:
        self.port = free_port()
        socket_dir = server.query.get("host")
        host, port = (socket_dir, 5432) if socket_dir else (server.host, server.port or 5432)
        # PgBouncer refuses to run as root; it then needs a user that can reach the server
        # (the owner of an embedded server's socket folder) and that owns its own folder.
        self.user = pwd.getpwuid(os.stat(socket_dir).st_uid).pw_name if socket_dir else "nobody"
        self.dir = Path(tempfile.mkdtemp(prefix="pgbouncer-"))
        (self.dir / "users.txt").write_text(f'"{server.username}" ""\n')
        (self.dir / "pgbouncer.ini").write_text(f"""
[databases]
* = host={host} port={port} user={server.username}
[pgbouncer]
listen_addr = 127.0.0.1
listen_port = {self.port}
unix_socket_dir =
auth_type = trust
auth_file = {self.dir}/users.txt
pool_mode = transaction
default_pool_size = {pool_size}
max_client_conn = 500
logfile = {self.dir}/pgbouncer.log
pidfile = {self.dir}/pgbouncer.pid
""")
        command = ["pgbouncer", str(self.dir / "pgbouncer.ini")]
        if os.geteuid() == 0:
            shutil.chown(self.dir, self.user)
            command[1:1] = ["-u", self.user]
        self.process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)

    def url(self, database: str) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{database}"

    async def wait_ready(self, database: str) -> None:
        deadline = time.monotonic() + 10
        while True:
            try:
                connection = await asyncpg.connect(self.url(database), statement_cache_size=0)
                await connection.close()
                return
            except (OSError, asyncpg.PostgresError):
                if time.monotonic() > deadline or self.process.poll() is not None:
                    raise
                await asyncio.sleep(0.1)

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=10)
        shutil.rmtree(self.dir, ignore_errors=True)


@pytest.fixture
async def pgbouncer(server_url):
    if shutil.which("pgbouncer") is None:
        pytest.skip("the pgbouncer binary is not installed (apt-get install pgbouncer)")
    bouncer = PgBouncer(server_url)
    yield bouncer
    bouncer.stop()


async def test_without_pgbouncer_mode_prepared_statements_collide(pgbouncer, live_database):
    """The control experiment: asyncpg's numbered statement names clash behind PgBouncer."""
    await pgbouncer.wait_ready(live_database.database)
    db = DatabaseSettings(pgbouncer=False, pool_timeout=1)
    async with live_client(live_settings(pgbouncer.url(live_database.database), db=db), check_errors=False) as client:
        responses = await asyncio.gather(*(client.get("/v1/sectors") for _ in range(20)))
    assert any(r.status_code >= 500 for r in responses)


@pytest.mark.slow
async def test_two_replicas_behind_pgbouncer_share_rate_limits(pgbouncer, server_url, redis_url, tmp_path, record_property):
    database = await migrated_scratch_database(server_url)
    writes_per_minute = 60
    env = {
        "DATABASE_URL": pgbouncer.url(database.database),
        "DB__PGBOUNCER": "true",
        "REDIS_URL": redis_url,
        "LIMITS__READS_PER_MINUTE": "100000",
        "LIMITS__WRITES_PER_MINUTE": str(writes_per_minute),
    }
    replicas = []
    try:
        await pgbouncer.wait_ready(database.database)
        replicas = [ServeProcess(env, tmp_path / f"replica-{i}.log") for i in range(2)]
        await asyncio.gather(*(replica.wait_ready() for replica in replicas))

        # A key of its own: this run's counters in Redis are nobody else's.
        headers = {"Authorization": f"Bearer {await admin_key_in(database)}"}
        requests = mixed_load(reads=200, writes=100)
        statuses: list[int] = []
        started = time.monotonic()
        async with httpx.AsyncClient(headers=headers, timeout=10) as client:
            semaphore = asyncio.Semaphore(8)

            async def send(i: int, method: str, path: str, body: dict | None) -> None:
                async with semaphore:
                    base = replicas[i % 2].base_url
                    statuses.append((await client.request(method, base + path, json=body)).status_code)

            await asyncio.gather(*(send(i, *request) for i, request in enumerate(requests)))
        elapsed = time.monotonic() - started
        logs = "\n".join(replica.log_text() for replica in replicas)
    finally:
        for replica in replicas:
            replica.stop()
        await drop_database(server_url, database)

    counts = Counter(statuses)
    record_property("replica_statuses", dict(counts))
    print(f"\n{len(statuses)} requests at 2 replicas behind PgBouncer in {elapsed:.1f} s: {dict(sorted(counts.items()))}")
    assert len(statuses) == 300
    assert not [s for s in statuses if s >= 500], counts
    assert "prepared statement" not in logs
    # 100 writes from one client against 60 a minute: only a shared count refuses 40 of
    # them (each replica alone saw 50, under its limit).
    assert counts[429] == 100 - writes_per_minute


def mixed_load(reads: int, writes: int) -> list[tuple[str, str, dict | None]]:
    """Reads of several shapes and writes that create, change and delete sectors."""
    read_paths = ["/v1/sectors", "/v1/sectors?kind=sector&limit=5", "/v1/clusters?q=cooperation",
                  "/v1/partnerships", "/v1/target-markets?sort=-partnership_count", "/v1/sectors/photonics"]
    run = secrets.token_hex(3)
    write_requests = []
    for i in range(writes):
        code = f"load-{run}-{i // 3}"
        write_requests.append([
            ("POST", "/v1/sectors", {"code": code, "name": f"Load {i}"}),
            ("PATCH", f"/v1/sectors/{code}", {"name": f"Load {i} changed"}),
            ("DELETE", f"/v1/sectors/{code}", None),
        ][i % 3])
    load: list[tuple[str, str, dict | None]] = []
    per_write = reads // writes
    for i, write in enumerate(write_requests):
        load.extend(("GET", read_paths[(i * per_write + j) % len(read_paths)], None) for j in range(per_write))
        load.append(write)
    return load

"""No client holds a database connection while the service waits on it: slow export readers,
trickled uploads and crowds of anonymous clients leave connections for everyone else.

Attacks against a real server process with a small pool, over real sockets.
"""

import asyncio
import json
import re
import socket
import time

import asyncpg
import httpx
import pytest

from tests import factories
from tests.bulk.helpers import ndjson
from tests.conftest import _asyncpg_dsn, drop_database
from tests.ops.conftest import (
    ServeProcess,
    admin_key_in,
    live_client,
    live_settings,
    migrated_scratch_database,
    table_locked,
    url_text,
    wait_for_lock_waiters,
)

pytestmark = pytest.mark.slow

CLUSTERS = 4000
DESCRIPTION = "Photonics, optics and imaging for the automotive and space industries. " * 40  # ~3 kB a row


@pytest.fixture(scope="module")
async def big_database(server_url):
    """A database of its own, with an export far larger than what socket buffers hold."""
    url = await migrated_scratch_database(server_url)
    rows = [factories.cluster(description=DESCRIPTION) for _ in range(CLUSTERS)]
    async with live_client(live_settings(url), key=await admin_key_in(url)) as client:
        loaded = await client.post("/v1/bulk/clusters", content=ndjson(*rows), headers={"Content-Type": "application/x-ndjson"})
        assert loaded.status_code == 200, loaded.text
    yield url
    await drop_database(server_url, url)


@pytest.fixture
def serve(tmp_path):
    processes = []

    def start(url, **env) -> ServeProcess:
        env = {"DATABASE_URL": url_text(url), "LIMITS__READS_PER_MINUTE": "0", "LIMITS__WRITES_PER_MINUTE": "0", **env}
        process = ServeProcess(env, tmp_path / f"serve-{len(processes)}.log")
        processes.append(process)
        return process

    yield start
    for process in processes:
        process.stop()


async def checked_out(client: httpx.AsyncClient) -> float:
    metrics = (await client.get("/metrics")).text
    return float(re.search(r'^db_pool_checked_out\{pool="primary"\} (\S+)$', metrics, re.MULTILINE).group(1))


async def busy_connections(url) -> int:
    """Connections of the service that are running a statement or inside a transaction."""
    connection = await asyncpg.connect(**_asyncpg_dsn(url))
    try:
        return await connection.fetchval(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = $1 AND application_name = 'partnerships' "
            "AND state <> 'idle'", url.database,
        )
    finally:
        await connection.close()


def stalled_reader(port: int, path: str, headers: dict[str, str] | None = None) -> socket.socket:
    """A client that asks for path and then never reads: a tiny receive buffer, nothing read."""
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.connect(("127.0.0.1", port))
    lines = "".join(f"{name}: {value}\r\n" for name, value in (headers or {}).items())
    sock.sendall(f"GET {path} HTTP/1.1\r\nHost: test\r\n{lines}\r\n".encode())
    return sock


def read_to_end(sock: socket.socket, timeout: float) -> tuple[bytes, bool]:
    """Everything the server sent, and whether it closed the connection within timeout."""
    sock.settimeout(timeout)
    received = bytearray()
    try:
        while chunk := sock.recv(1 << 20):
            received += chunk
    except TimeoutError:
        return bytes(received), False
    except ConnectionResetError:
        pass
    return bytes(received), True


async def test_stalled_export_readers_hold_no_connection_and_are_cut_off(serve, big_database):
    server = serve(
        big_database, DB__POOL_SIZE="4", DB__MAX_OVERFLOW="0", BULK__EXPORT_SEND_TIMEOUT_SECONDS="10",
        BULK__MAX_EXPORTS="20", BULK__MAX_EXPORTS_PER_CLIENT="8",
    )
    await server.wait_ready()
    async with httpx.AsyncClient(base_url=server.base_url, timeout=30) as client:
        whole = await client.get("/v1/export/clusters")  # what a reader that reads gets
        assert whole.status_code == 200 and len(whole.content) > 10_000_000
        slugs = [json.loads(line)["slug"] for line in whole.content.splitlines()]  # whole, in order, past the spool's memory
        assert len(slugs) == CLUSTERS and slugs == sorted(set(slugs))

        readers = [stalled_reader(server.port, "/v1/export/clusters") for _ in range(8)]  # twice the pool
        try:
            statuses, slowest = [], 0.0
            started = time.monotonic()
            idle_after = None
            while time.monotonic() - started < 8:  # inside the send timeout
                for path in ("/v1/clusters?limit=5", "/readyz"):
                    sent = time.monotonic()
                    response = await client.get(path)
                    statuses.append(response.status_code)
                    if idle_after is not None:
                        slowest = max(slowest, time.monotonic() - sent)
                if idle_after is None and await checked_out(client) == 0 and await busy_connections(big_database) == 0:
                    idle_after = time.monotonic() - started
                await asyncio.sleep(0.05)
            # The readers read nothing, yet every export query is done and its connection back.
            assert idle_after is not None and idle_after < 8, "the stalled exports still hold connections"
            assert set(statuses) == {200}, statuses
            assert slowest < 1.0, f"a request took {slowest:.2f} s while the readers stalled"
            print(f"pool idle after {idle_after:.2f} s; slowest request after that {slowest * 1000:.0f} ms")
            # Each stalled reader is cut off once the send timeout has passed: the server
            # closes its connection, the body short of the whole export.
            await asyncio.sleep(started + 10 + 4 - time.monotonic())
            for reader in readers:
                received, closed = await asyncio.to_thread(read_to_end, reader, 15)
                assert closed, "a stalled reader was never cut off"
                assert received.startswith(b"HTTP/1.1 200") and len(received) < len(whole.content)
        finally:
            for reader in readers:
                reader.close()
        assert await checked_out(client) == 0 and await busy_connections(big_database) == 0
        assert (await client.get("/readyz")).status_code == 200
    records = [json.loads(line) for line in server.log_text().splitlines() if line.startswith("{")]
    cut_off = [r for r in records if r["message"].startswith("export cut off")]
    assert len(cut_off) == len(readers) and all(r["level"] == "WARNING" and r["request_id"] for r in cut_off)
    assert not [r for r in records if r["level"] == "ERROR"], "a cut-off is logged as an error"


async def test_exports_are_bounded_per_client_and_per_process(serve, big_database):
    server = serve(big_database, BULK__MAX_EXPORTS="3", BULK__MAX_EXPORTS_PER_CLIENT="2",
                   BULK__EXPORT_SEND_TIMEOUT_SECONDS="30")
    await server.wait_ready()
    key = await admin_key_in(big_database)
    keyed = {"Authorization": f"Bearer {key}"}
    readers = [stalled_reader(server.port, "/v1/export/clusters") for _ in range(2)]
    try:
        async with httpx.AsyncClient(base_url=server.base_url, timeout=30) as client:
            await asyncio.sleep(1)  # both exports running
            refused = await client.get("/v1/export/clusters")
            assert refused.status_code == 429 and refused.headers["Retry-After"]
            assert refused.headers["content-type"] == "application/problem+json"
            # Another client (an API key) still exports, whole.
            other = await client.get("/v1/export/clusters", headers=keyed)
            assert other.status_code == 200 and other.content.count(b"\n") == CLUSTERS
            # Once the process runs as many as it may, everyone waits.
            readers.append(stalled_reader(server.port, "/v1/export/clusters", keyed))
            await asyncio.sleep(1)
            full = await client.get("/v1/export/clusters", headers=keyed)
            assert full.status_code == 503 and full.headers["Retry-After"]
            assert "Too many exports" in full.json()["detail"]
    finally:
        for reader in readers:
            reader.close()


async def test_trickled_uploads_hold_no_connection_and_are_bounded_in_time(serve, big_database):
    # One connection in all: were an upload holding it, nothing else could be served.
    server = serve(big_database, DB__POOL_SIZE="1", DB__MAX_OVERFLOW="0", DB__POOL_TIMEOUT="1",
                   BULK__UPLOAD_TIMEOUT_SECONDS="4")
    await server.wait_ready()
    key = await admin_key_in(big_database)
    keyed = {"Authorization": f"Bearer {key}"}

    async def trickle(pieces: list[bytes]):
        for piece in pieces:  # over about three seconds
            yield piece
            await asyncio.sleep(3 / len(pieces))

    cluster = json.dumps(factories.cluster(slug="posted")).encode()
    uploads = {  # a bulk file, and a JSON body (FastAPI reads it before the handler's session)
        "/v1/bulk/clusters": ("application/x-ndjson", [ndjson(factories.cluster(slug=f"trickled-{i}")) for i in range(6)]),
        "/v1/clusters": ("application/json", [cluster[i:i + 20] for i in range(0, len(cluster), 20)]),
    }
    async with httpx.AsyncClient(base_url=server.base_url, timeout=30) as client:
        sending = [asyncio.create_task(client.post(path, content=trickle(pieces), headers={"Content-Type": kind, **keyed}))
                   for path, (kind, pieces) in uploads.items()]
        try:
            served = 0
            while not all(task.done() for task in sending):
                for response in (await client.get("/v1/clusters?limit=1"), await client.get("/v1/sectors", headers=keyed),
                                 await client.get("/readyz")):
                    assert response.status_code == 200, response.text
                    served += 1
                await asyncio.sleep(0.1)
            assert served >= 15
            bulk, posted = [task.result() for task in sending]
        finally:
            for task in sending:
                task.cancel()
        assert bulk.json()["created"] == 6, bulk.text
        assert posted.status_code == 201, posted.text

        # A body that stops arriving is refused once the upload time limit has passed, and nothing is applied.
        started = time.monotonic()
        late = await asyncio.to_thread(stalled_upload, server.port, key, ndjson(factories.cluster(slug="never")))
        assert late.startswith(b"HTTP/1.1 408"), late[:200]
        assert 3.5 < time.monotonic() - started < 8
        problem = json.loads(late.split(b"\r\n\r\n", 1)[1])
        assert problem["status"] == 408 and problem["type"] == "/problems/request-timeout"
        assert (await client.get("/v1/clusters/never")).status_code == 404


def stalled_upload(port: int, key: str, first_part: bytes) -> bytes:
    """Declare a large body, send its first part, send nothing more; the server's answer."""
    with socket.create_connection(("127.0.0.1", port)) as sock:
        sock.sendall(
            f"POST /v1/bulk/clusters HTTP/1.1\r\nHost: test\r\nAuthorization: Bearer {key}\r\n"
            f"Content-Type: application/x-ndjson\r\nContent-Length: {len(first_part) + 1_000_000}\r\n\r\n".encode()
            + first_part
        )
        received, _ = read_to_end(sock, 15)
        return received


async def test_anonymous_clients_cannot_take_every_connection(serve, big_database):
    # Four connections, so anonymous requests may hold two.
    server = serve(big_database, DB__POOL_SIZE="3", DB__MAX_OVERFLOW="1", DB__POOL_TIMEOUT="1",
                   DB__STATEMENT_TIMEOUT_MS="20000")
    await server.wait_ready()
    key = await admin_key_in(big_database)
    async with httpx.AsyncClient(base_url=server.base_url, timeout=30) as client:
        async with table_locked(big_database, "sectors"):
            # Anonymous requests that each hold a connection: as many as the pool has.
            stuck = [asyncio.create_task(client.get("/v1/sectors")) for _ in range(4)]
            cleanup = asyncio.gather(*stuck, return_exceptions=True)
            await wait_for_lock_waiters(big_database, count=2)
            await asyncio.sleep(0.5)
            assert await checked_out(client) == 2  # the other two wait for a place, holding nothing
            started = time.monotonic()
            refused = await client.get("/v1/clusters?limit=1")
            waited = time.monotonic() - started
            assert refused.status_code == 503 and refused.headers["Retry-After"] == "1"
            assert refused.headers["content-type"] == "application/problem+json"
            assert "without an API key" in refused.json()["detail"]
            assert 0.9 < waited < 3
            # Keyed requests and the readiness probe still get connections.
            for response in (await client.get("/v1/clusters?limit=1", headers={"Authorization": f"Bearer {key}"}),
                             await client.get("/readyz")):
                assert response.status_code == 200, response.text
        await cleanup
        statuses = [request.result().status_code for request in stuck]
        # The two that waited past the pool timeout were told to come back; the others were served.
        assert sorted(statuses) == [200, 200, 503, 503]

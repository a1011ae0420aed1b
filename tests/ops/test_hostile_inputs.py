"""Forged cursors and deeply nested bodies against real server processes: refused with 422,
while other clients are served as usual; and replicas sharing a database agree on the key
cursors are signed with, without being told one."""

import asyncio

import asyncpg
import httpx
import pytest

from tests.conftest import _asyncpg_dsn, drop_database
from tests.ops.conftest import ServeProcess, migrated_scratch_database, url_text
from tests.problems import assert_problem

pytestmark = pytest.mark.slow


@pytest.fixture
async def fresh_database(server_url):
    """A database no process has generated a key in yet."""
    url = await migrated_scratch_database(server_url)
    yield url
    await drop_database(server_url, url)


@pytest.fixture
def serve(tmp_path, fresh_database):
    processes = []

    def start(**env) -> ServeProcess:
        process = ServeProcess({"DATABASE_URL": url_text(fresh_database), **env}, tmp_path / f"serve-{len(processes)}.log")
        processes.append(process)
        return process

    yield start
    for process in processes:
        process.stop()


async def test_replicas_without_a_configured_secret_accept_each_others_cursors(serve, fresh_database):
    servers = []
    for env in ({}, {}, {"CURSORS__SECRET": "a secret of our own"}):  # one after the other: a small machine
        servers.append(serve(**env))
        await servers[-1].wait_ready(timeout=60)
    first, second, configured = servers
    async with httpx.AsyncClient(timeout=10) as client:
        # Both take their key at the same moment: one generates it, both use that one.
        pages = await asyncio.gather(*(client.get(f"{s.base_url}/v1/sectors", params={"limit": 2}) for s in (first, second)))
        cursors = [page.json()["next_cursor"] for page in pages]
        assert cursors[0] == cursors[1]
        from_first = await client.get(f"{first.base_url}/v1/sectors", params={"limit": 2, "cursor": cursors[0]})
        from_second = await client.get(f"{second.base_url}/v1/sectors", params={"limit": 2, "cursor": cursors[0]})
        assert from_first.status_code == from_second.status_code == 200
        assert from_first.json() == from_second.json() and from_first.json()["items"]

        # A replica given its own secret signs with it and refuses the others' cursors.
        assert_problem(await client.get(f"{configured.base_url}/v1/sectors", params={"cursor": cursors[0], "limit": 2}), 422, "query.cursor")
        own = (await client.get(f"{configured.base_url}/v1/sectors", params={"limit": 2})).json()["next_cursor"]
        assert own != cursors[0]
        assert (await client.get(f"{configured.base_url}/v1/sectors", params={"limit": 2, "cursor": own})).status_code == 200

    connection = await asyncpg.connect(**_asyncpg_dsn(fresh_database))
    try:
        assert await connection.fetchval("SELECT count(*) FROM service_secrets") == 1
    finally:
        await connection.close()


async def test_forged_cursors_and_deep_bodies_are_refused_while_others_are_served(serve, fresh_database):
    server = serve(LIMITS__READS_PER_MINUTE="0", LIMITS__WRITES_PER_MINUTE="0")
    await server.wait_ready(timeout=60)
    deep = b"[" * 1_000_000

    async def attack(client: httpx.AsyncClient) -> None:
        for _ in range(5):
            # Refused before anything parses the body, so before the key is asked for, like a 413.
            for method, path in [("POST", "/v1/sectors"), ("PUT", "/v1/target-markets/FR")]:
                response = await client.request(method, path, content=deep, headers={"Content-Type": "application/json"})
                assert_problem(response, 422, "body")
            forged = "WyJ4IiwxXQ." + "A" * 43  # ["x",1] with a made-up signature
            assert_problem(await client.get("/v1/sectors", params={"cursor": forged}), 422, "query.cursor")

    async def bystander(client: httpx.AsyncClient) -> list[int]:
        statuses = []
        for _ in range(20):
            statuses.append((await client.get("/v1/sectors", params={"limit": 5})).status_code)
            await asyncio.sleep(0.01)
        return statuses

    async with httpx.AsyncClient(base_url=server.base_url, timeout=20) as attacker, \
            httpx.AsyncClient(base_url=server.base_url, timeout=20) as other:
        _, served = await asyncio.gather(attack(attacker), bystander(other))
    assert set(served) == {200}
    assert "Traceback" not in server.log_text() and "RecursionError" not in server.log_text()

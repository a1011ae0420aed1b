"""The change feed on a committed database: order, paging, a transaction that commits late,
and concurrent writers against a real server while a reader polls.

An event is listed once every transaction older than its own that could write events has
ended; one in another database of the server does not count when the service may see other
sessions (the tests connect as a superuser), else it may delay the feed: the readers here
poll until what they expect has come, and fail only after a generous wait.
"""

import asyncio
import time
import uuid
from collections import Counter

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine

from service.events import repository
from tests import factories
from tests.ops.conftest import ServeProcess, admin_key_in, live_client, live_settings, url_text

WAIT = 60.0


async def page(client, after: str | None, **params) -> dict:
    response = await client.get("/v1/events", params={"after": after, **params} if after else params)
    assert response.status_code == 200, response.text
    return response.json()


async def end_of_feed(client) -> str:
    """A cursor past every event listed now."""
    cursor = None
    while True:
        body = await page(client, cursor, limit=200)
        cursor = body["next_cursor"]
        if not body["items"]:
            return cursor


async def read(client, cursor: str, count: int, **params) -> tuple[list[dict], str]:
    """Page from cursor until count events have come (or fail after WAIT seconds)."""
    items: list[dict] = []
    deadline = time.monotonic() + WAIT
    while len(items) < count:
        body = await page(client, cursor, **params)
        items += body["items"]
        cursor = body["next_cursor"]
        if not body["items"]:
            assert time.monotonic() < deadline, f"{len(items)} of {count} events came within {WAIT} s"
            await asyncio.sleep(0.1)
    return items, cursor


async def test_paging_in_order_with_after_type_and_limit(live_database):
    async with live_client(live_settings(live_database), key=await admin_key_in(live_database)) as client:
        start = await end_of_feed(client)
        made = [await factories.create(client, "/v1/clusters", factories.cluster()) for _ in range(5)]
        for cluster in made[:2]:
            assert (await client.patch(f"/v1/clusters/{cluster['id']}", json={"city": "Graz"})).status_code == 200
        assert (await client.delete(f"/v1/clusters/{made[4]['id']}")).status_code == 204

        items, end = await read(client, start, 8, limit=3)
        assert [(e["type"], e["resource_id"]) for e in items] == [
            *(("cluster.created", c["id"]) for c in made),
            ("cluster.updated", made[0]["id"]), ("cluster.updated", made[1]["id"]), ("cluster.deleted", made[4]["id"]),
        ]
        assert len({e["id"] for e in items}) == 8
        assert (await page(client, end))["items"] == []  # nothing after the end, and the cursor still given

        updates, _ = await read(client, start, 2, type="cluster.updated")
        assert [e["data"]["city"] for e in updates] == ["Graz", "Graz"]
        picked, _ = await read(client, start, 3, type=["cluster.updated", "cluster.deleted"])
        assert [e["type"] for e in picked] == ["cluster.updated", "cluster.updated", "cluster.deleted"]
        first = await page(client, start, limit=1)
        assert [e["id"] for e in first["items"]] == [items[0]["id"]]
        assert [e["id"] for e in (await page(client, first["next_cursor"], limit=2))["items"]] == [items[1]["id"], items[2]["id"]]


async def _write(sessionmaker, name: str):
    """A session that has written one event (of a resource named by name) and not committed."""
    session = sessionmaker()
    await repository.add(session, "cluster.updated", uuid.uuid4(), 1, {"name": name})
    return session


async def test_an_event_committed_late_is_never_passed_over(live_database):
    engine = create_async_engine(url_text(live_database))
    sessionmaker = async_sessionmaker(engine, expire_on_commit=False)
    try:
        async with live_client(live_settings(live_database), key=await admin_key_in(live_database)) as client:
            start = await end_of_feed(client)
            a = await _write(sessionmaker, "A")  # begins first, commits last
            b = await _write(sessionmaker, "B")
            await b.commit()
            await b.close()
            await asyncio.sleep(0.3)
            while_open = await page(client, start)
            assert while_open["items"] == []  # not B before A: A's transaction is still running
            await a.commit()
            await a.close()
            seen, _ = await read(client, while_open["next_cursor"], 2)
            assert [e["data"]["name"] for e in seen] == ["A", "B"]  # A's, from the cursor read while it was open
    finally:
        await engine.dispose()


async def test_a_transaction_in_another_database_does_not_hold_the_feed_back(live_database, server_url):
    from tests.conftest import create_scratch_database, drop_database

    elsewhere = await create_scratch_database(server_url)
    other = create_async_engine(elsewhere)
    engine = create_async_engine(url_text(live_database))
    try:
        async with other.connect() as connection, live_client(
            live_settings(live_database), key=await admin_key_in(live_database)
        ) as client:
            await connection.execute(text("CREATE TABLE t (x int)"))
            await connection.execute(text("INSERT INTO t VALUES (1)"))  # holds a transaction id, open
            start = await end_of_feed(client)
            async with async_sessionmaker(engine)() as session:
                await repository.add(session, "cluster.updated", uuid.uuid4(), 1, {"name": "here"})
                await session.commit()
            listed = (await page(client, start))["items"]
            assert [e["data"]["name"] for e in listed] == ["here"]
    finally:
        await engine.dispose()
        await other.dispose()
        await drop_database(server_url, elsewhere)


async def test_an_event_meant_for_one_key_is_listed_to_that_key_and_admins_only(live_database):
    engine = create_async_engine(url_text(live_database))
    admin = await admin_key_in(live_database)
    try:
        async with live_client(live_settings(live_database), key=admin) as client:
            made = [(await client.post("/v1/api-keys", json={"name": n, "scope": "read"})).json() for n in "ab"]
            start = await end_of_feed(client)
            async with async_sessionmaker(engine)() as session:
                owner = uuid.UUID(made[0]["id"])
                await repository.add(session, "cluster.updated", uuid.uuid4(), None, {"for": "owner"}, audience=owner)
                await repository.add(session, "cluster.updated", uuid.uuid4(), 1, {"for": "everyone"})
                await session.commit()
            await read(client, start, 2)

        async def listed(key: str | None) -> list[str]:
            async with live_client(live_settings(live_database), key=key) as reader:
                return [e["data"]["for"] for e in (await page(reader, start))["items"]]

        assert await listed(made[0]["key"]) == ["owner", "everyone"]
        assert await listed(made[1]["key"]) == ["everyone"]
        assert await listed(None) == ["everyone"]
        assert await listed(admin) == ["owner", "everyone"]
    finally:
        await engine.dispose()


WRITERS = 8
ROUNDS = 15


async def _writer(client: httpx.AsyncClient, prefix: str, n: int) -> None:
    for i in range(ROUNDS):
        cluster = await factories.create(client, "/v1/clusters", factories.cluster(slug=f"{prefix}-{n}-{i}"))
        assert (await client.patch(f"/v1/clusters/{cluster['id']}", json={"city": f"City {i}"})).status_code == 200
        body = factories.opportunity(external_id=f"{prefix}-{n}-{i}")
        opportunity = await factories.create(client, "/v1/opportunities", body)
        assert (await client.patch(f"/v1/opportunities/{opportunity['id']}", json={"title": f"T {i}"})).status_code == 200


@pytest.mark.slow
async def test_concurrent_writers_and_a_polling_reader_agree_with_the_tables(live_database, tmp_path):
    env = {"DATABASE_URL": url_text(live_database), "LIMITS__READS_PER_MINUTE": "0", "LIMITS__WRITES_PER_MINUTE": "0"}
    server = ServeProcess(env, tmp_path / "serve.log")
    prefix = f"feed-{uuid.uuid4().hex[:8]}"
    expected = WRITERS * ROUNDS * 4
    try:
        await server.wait_ready()
        headers = {"Authorization": f"Bearer {await admin_key_in(live_database)}"}
        async with httpx.AsyncClient(base_url=server.base_url, headers=headers, timeout=30) as client:
            cursor = await end_of_feed(client)
            started = time.monotonic()
            writers = asyncio.gather(*(_writer(client, prefix, n) for n in range(WRITERS)))
            seen: list[dict] = []
            polls = 0
            try:
                while not writers.done() or len(seen) < expected:
                    body = await page(client, cursor, limit=50)
                    seen += body["items"]
                    cursor, polls = body["next_cursor"], polls + 1
                    assert time.monotonic() - started < 180, f"{len(seen)} of {expected} events read"
                    if writers.done() and writers.exception():
                        await writers
                    if not body["items"]:
                        await asyncio.sleep(0.02)
            finally:
                writers.cancel()
            await writers
            elapsed = time.monotonic() - started
            assert (await page(client, cursor))["items"] == []

        engine = create_async_engine(url_text(live_database))
        async with engine.connect() as connection:
            clusters = set((await connection.execute(
                text("SELECT id::text FROM clusters WHERE slug LIKE :p"), {"p": f"{prefix}-%"})).scalars())
            opportunities = set((await connection.execute(
                text("SELECT id::text FROM opportunities WHERE external_id LIKE :p"), {"p": f"{prefix}-%"})).scalars())
        await engine.dispose()
    finally:
        server.stop()

    assert len(clusters) == len(opportunities) == WRITERS * ROUNDS
    assert len({e["id"] for e in seen}) == len(seen), "an event was read twice"
    counted = Counter((e["type"], e["resource_id"]) for e in seen)
    for kind, ids in (("cluster", clusters), ("opportunity", opportunities)):
        for resource_id in ids:
            assert counted[(f"{kind}.created", resource_id)] == 1, (kind, resource_id)
            assert counted[(f"{kind}.updated", resource_id)] == 1, (kind, resource_id)
    assert len(seen) == expected == sum(counted.values())
    versions = {}
    for e in seen:  # each resource's events in the order they happened
        assert versions.get(e["resource_id"], 0) < e["resource_version"]
        versions[e["resource_id"]] = e["resource_version"]
    print(f"\nchange feed: {WRITERS} writers, {expected} events, {elapsed:.1f} s, {polls} polls")

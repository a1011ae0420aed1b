"""While the meeting scheduler searches, the run holds no database connection: with a pool
of one, other requests are served meanwhile, and the schedule is written after."""

import asyncio
import uuid

import pytest

from service.config import DatabaseSettings
from tests import factories
from tests.meetings import SETUP, HeldSolver, World, accepted
from tests.ops.conftest import admin_key_in, live_client, live_settings
from tests.ops.test_connection_hold import busy_connections, checked_out

pytestmark = pytest.mark.slow


async def _world(client) -> World:
    """A mission with a setup and two accepted requests, every slug new (the database is shared)."""
    slugs = [f"{name}-{uuid.uuid4().hex[:8]}" for name in ("org", "beta", "gamma", "delta")]
    for slug in slugs:
        await factories.create(client, "/v1/clusters", factories.cluster(slug=slug))
    mission = await factories.create(client, "/v1/missions", factories.mission(
        organisers={"clusters": [slugs[0]]}, timezone="Europe/Berlin", start_time="09:00", end_time="18:00"))
    world = World(mission["id"], {})
    for slug in slugs[1:]:
        await factories.create(client, world.path("/participants"), {"cluster": slug})
    assert (await client.put(world.path("/meeting-setup"), json=SETUP)).status_code == 200
    await accepted(client, world, slugs[1], slugs[2])
    await accepted(client, world, slugs[1], slugs[3])
    return world


async def test_the_search_holds_no_connection(live_database, monkeypatch):
    settings = live_settings(live_database, db=DatabaseSettings(pool_size=1, max_overflow=0, pool_timeout=1))
    async with live_client(settings, key=await admin_key_in(live_database)) as client:
        world = await _world(client)
        solver = HeldSolver(monkeypatch)
        run = asyncio.create_task(client.post(world.path("/schedule")))
        try:
            await solver.searching()
            assert await checked_out(client) == 0 and await busy_connections(live_database) == 0
            # The one connection serves reads and writes while the search goes on.
            for response in (await client.get("/v1/clusters?limit=1"), await client.get(world.path("/meetings")),
                             await client.patch(world.path(), json={"description": "Matchmaking in Berlin"})):
                assert response.status_code == 200, response.text
            assert not run.done()
        finally:
            solver.release.set()
        done = await run
        # The mission's description is no input of the schedule: it is written.
        assert done.status_code == 200, done.text
        assert done.json()["scheduled"] == 2 and len((await client.get(world.path("/meetings"))).json()["items"]) == 2
        assert await checked_out(client) == 0


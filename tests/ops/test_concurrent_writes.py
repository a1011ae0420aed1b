"""Concurrent writers against a served app with a real pool: no lost update, no double create."""

import asyncio

from sqlalchemy import text

from service.config import DatabaseSettings
from tests import factories
from tests.ops.conftest import admin_key_in, live_client, live_settings


async def test_concurrent_patches_with_one_etag_exactly_one_wins(live_database):
    settings = live_settings(live_database, db=DatabaseSettings(pool_size=20, max_overflow=40))
    async with live_client(settings, key=await admin_key_in(live_database)) as client:
        cluster = await factories.create(client, "/v1/clusters", factories.cluster())
        url = f"/v1/clusters/{cluster['id']}"
        etag = (await client.get(url)).headers["etag"]
        responses = await asyncio.gather(*(
            client.patch(url, json={"city": f"City {i}"}, headers={"If-Match": etag}) for i in range(50)
        ))
        statuses = sorted(r.status_code for r in responses)
        assert statuses.count(200) == 1 and statuses.count(412) == 49, statuses
        winner = next(r for r in responses if r.status_code == 200).json()
        assert (await client.get(url)).json()["city"] == winner["city"]


async def test_concurrent_posts_with_one_idempotency_key_create_one_record(live_database):
    settings = live_settings(live_database, db=DatabaseSettings(pool_size=20, max_overflow=40))
    key = await admin_key_in(live_database)
    async with live_client(settings, key=key) as client:
        body = factories.mission(external_id="concurrent-mission")
        responses = await asyncio.gather(*(
            client.post("/v1/missions", json=body, headers={"Idempotency-Key": "one-mission"}) for _ in range(50)
        ))
        statuses = [r.status_code for r in responses]
        assert set(statuses) <= {201, 409}, statuses
        created = [r for r in responses if r.status_code == 201]
        assert len({r.json()["id"] for r in created}) == 1  # the replays answer the same record
        engine = client.app.state.engine
        async with engine.connect() as connection:
            count = await connection.scalar(text("SELECT count(*) FROM missions WHERE external_id = 'concurrent-mission'"))
        assert count == 1
        # Once the first has finished, every retry gets its answer.
        retry = await client.post("/v1/missions", json=body, headers={"Idempotency-Key": "one-mission"})
        assert retry.status_code == 201 and retry.headers["idempotent-replayed"] == "true"

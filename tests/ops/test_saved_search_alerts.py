"""Saved-search alerts end to end: changes made over HTTP, dispatched by a real
`partnerships worker` process, announced in the change feed."""

import asyncio
import time

import pytest

from tests import factories
from tests.ops.conftest import WorkerProcess, admin_key_in, live_client, live_settings, url_text

pytestmark = pytest.mark.slow


async def alerts(client) -> list[dict]:
    items, after = [], None
    while True:
        page = (await client.get("/v1/events", params={"type": "saved_search.matched", "limit": 200} | (
            {"after": after} if after else {}
        ))).json()
        # Other tests share this database and may have written alerts of their own making.
        items += [e["data"] for e in page["items"] if "opportunity" in e["data"]]
        if not page["items"]:
            return items
        after = page["next_cursor"]


async def wait_for_alert(client, opportunity_id: str, timeout: float = 90.0) -> list[dict]:
    # Generous: an event is dispatched once settled, when every transaction on the server
    # that began before it has ended, those of other databases on a shared server too.
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = await alerts(client)
        if any(a["opportunity"]["id"] == opportunity_id for a in found):
            return found
        await asyncio.sleep(0.2)
    raise AssertionError(f"no saved_search.matched for {opportunity_id} within {timeout} s")


async def create_opportunity(client, **fields) -> dict:
    return await factories.create(client, "/v1/opportunities", factories.opportunity(deadline=None, **fields))


async def test_a_worker_announces_each_new_match_once(live_database, tmp_path):
    worker = WorkerProcess({"DATABASE_URL": url_text(live_database)}, tmp_path / "worker.log")
    try:
        await worker.wait_ready()
        key = await admin_key_in(live_database)
        async with live_client(live_settings(live_database), key=key) as client:
            us = await factories.create(client, "/v1/saved-searches", {"name": "US", "query": {"country": ["US"], "q": "quantum"}})
            japan = await factories.create(client, "/v1/saved-searches", {"name": "JP", "query": {"country": ["JP"]}})
            matching = await create_opportunity(client, title="Quantum sensing partners", countries=["US"])
            elsewhere = await create_opportunity(client, title="Quantum sensing partners", countries=["FR"])
            found = await wait_for_alert(client, matching["id"])
            mine = [a for a in found if a["id"] in (us["id"], japan["id"])]
            assert [(a["id"], a["opportunity"]["id"]) for a in mine] == [(us["id"], matching["id"])]
            assert mine[0]["saved_search_id"] == us["id"] and mine[0]["opportunity"]["title"] == "Quantum sensing partners"

            changed = await client.patch(f"/v1/opportunities/{matching['id']}", json={"summary": "Still quantum, still the US."})
            assert changed.status_code == 200
            # Events are dispatched in feed order: once a later change is announced, the update was seen.
            later = await create_opportunity(client, title="Quantum computing offer", countries=["US", "JP"])
            found = await wait_for_alert(client, later["id"])
            pairs = sorted((a["id"], a["opportunity"]["id"]) for a in found if a["id"] in (us["id"], japan["id"]))
            assert pairs == sorted([(us["id"], matching["id"]), (us["id"], later["id"]), (japan["id"], later["id"])])
            assert all(a["opportunity"]["id"] != elsewhere["id"] for a in found)
    finally:
        worker.stop()

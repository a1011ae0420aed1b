"""A calendar source belongs to a cluster: its missions are that cluster's, and only that
cluster's keys (or unbound ones) change, sync, feed or delete it."""

import json

import pytest

from tests import factories
from tests.conftest import issue_key, make_client
from tests.feeds import FeedServer, Route, local_feed_settings
from tests.lists import collect
from tests.problems import assert_problem
from tests.test_calendar_sync import ICS, calendar, event

JSON = {"Content-Type": "application/json"}


@pytest.fixture
def settings():
    return local_feed_settings(fetch_timeout_seconds=2)


@pytest.fixture
def feeds():
    with FeedServer() as server:
        server.routes["/alpha.ics"] = Route(calendar(event("a-1", "Mission to Lima", "20300601", "20300603")))
        yield server


@pytest.fixture
async def keys(client, session):
    for slug in ("alpha", "beta"):
        await factories.create(client, "/v1/clusters", factories.cluster(slug=slug))
    return {"alpha": await issue_key(session, "write", "alpha"), "beta": await issue_key(session, "write", "beta"),
            "unbound": await issue_key(session, "write")}


async def _organising(client, title: str) -> list[str]:
    missions = [m for m in await collect(client, "/v1/missions", {}) if m["title"] == title]
    assert len(missions) == 1, missions
    return [c["slug"] for c in missions[0]["organisers"]["clusters"]]


async def test_a_bound_keys_source_is_its_clusters_and_so_are_its_missions(app, client, feeds, keys):
    async with make_client(app, keys["alpha"]) as alpha:
        source = await factories.create(alpha, "/v1/calendar-sources", {"url": feeds.url("/alpha.ics")})
        assert source["cluster"]["slug"] == "alpha"
        report = (await alpha.post(f"/v1/calendar-sources/{source['id']}/sync")).json()
    assert report["created"] == 1
    assert await _organising(client, "Mission to Lima") == ["alpha"]
    # The organising cluster's key holds the mission like one it created itself.
    mission = (await collect(client, "/v1/missions", {}))[0]
    async with make_client(app, keys["alpha"]) as alpha:
        assert (await alpha.patch(f"/v1/missions/{mission['id']}", json={"capacity": 12})).status_code == 200


async def test_a_bound_key_names_only_its_own_cluster_as_owner(app, client, feeds, keys):
    async with make_client(app, keys["alpha"]) as alpha:
        refused = await alpha.post("/v1/calendar-sources", json={"url": feeds.url("/alpha.ics"), "cluster": "beta"})
        assert_problem(refused, 403)
        assert await collect(client, "/v1/calendar-sources", {}) == []
        own = await factories.create(alpha, "/v1/calendar-sources", {"url": feeds.url("/alpha.ics"), "cluster": "alpha"})
        assert own["cluster"]["slug"] == "alpha"
        # Nor may it hand its source to another cluster, or to none.
        for cluster in ("beta", None):
            moved = await alpha.patch(f"/v1/calendar-sources/{own['id']}", json={"cluster": cluster})
            assert_problem(moved, 403)
    assert (await client.get(f"/v1/calendar-sources/{own['id']}")).json()["cluster"]["slug"] == "alpha"


async def test_admins_and_unbound_keys_name_any_cluster_or_none(app, client, feeds, keys):
    async with make_client(app, keys["unbound"]) as unbound:
        beta = await factories.create(unbound, "/v1/calendar-sources", {"url": feeds.url("/alpha.ics"), "cluster": "beta"})
        assert beta["cluster"]["slug"] == "beta"
        none = await factories.create(unbound, "/v1/calendar-sources", {"url": feeds.url("/none.ics")})
        assert none["cluster"] is None
    moved = await client.patch(f"/v1/calendar-sources/{beta['id']}", json={"cluster": "alpha"})
    assert moved.status_code == 200 and moved.json()["cluster"]["slug"] == "alpha"
    unknown = await client.patch(f"/v1/calendar-sources/{beta['id']}", json={"cluster": "nowhere"})
    assert_problem(unknown, 422, "body.cluster")
    # An owning cluster is not deleted from under its source.
    assert_problem(await client.delete("/v1/clusters/alpha"), 409)
    assert (await client.get(f"/v1/calendar-sources/{beta['id']}")).json()["cluster"]["slug"] == "alpha"


async def test_another_clusters_key_cannot_change_sync_feed_or_delete_a_source(app, client, feeds, keys):
    source = await factories.create(client, "/v1/calendar-sources", {"url": feeds.url("/alpha.ics"), "cluster": "alpha"})
    path = f"/v1/calendar-sources/{source['id']}"
    async with make_client(app, keys["beta"]) as beta:
        assert_problem(await beta.patch(path, json={"organiser": "Beta"}), 403)
        assert_problem(await beta.post(f"{path}/sync"), 403)
        upload = calendar(event("b-1", "Beta's mission", "20300701", "20300703"))
        assert_problem(await beta.post("/v1/missions/import", params={"source": source["id"]}, content=upload, headers=ICS), 403)
        assert_problem(await beta.delete(path), 403)
    assert (await client.get(path)).json() == source
    assert await collect(client, "/v1/missions", {}) == []
    # The admin can do all of it.
    assert (await client.patch(path, json={"organiser": "ECCP"})).status_code == 200
    assert (await client.post(f"{path}/sync")).json()["created"] == 1
    assert await _organising(client, "Mission to Lima") == ["alpha"]
    spare = await factories.create(client, "/v1/calendar-sources", {"url": feeds.url("/spare.ics"), "cluster": "alpha"})
    assert (await client.delete(f"/v1/calendar-sources/{spare['id']}")).status_code == 204


async def test_a_source_without_owner_is_for_unbound_keys_only(app, client, feeds, keys):
    source = await factories.create(client, "/v1/calendar-sources", {"url": feeds.url("/alpha.ics")})
    async with make_client(app, keys["alpha"]) as alpha:
        assert_problem(await alpha.post(f"/v1/calendar-sources/{source['id']}/sync"), 403)
        assert_problem(await alpha.patch(f"/v1/calendar-sources/{source['id']}", json={"cluster": "alpha"}), 403)
    async with make_client(app, keys["unbound"]) as unbound:
        assert (await unbound.post(f"/v1/calendar-sources/{source['id']}/sync")).json()["created"] == 1
    assert await _organising(client, "Mission to Lima") == []


async def test_a_feed_naming_a_victim_cluster_organises_only_for_the_sources_cluster(app, client, feeds, keys):
    victim = await factories.create(client, "/v1/clusters", factories.cluster(slug="victim"))
    feed = {"events": [{"uid": "claim-1", "title": "Claimed mission", "starts_on": "2030-07-01",
                        "destination_country": "CA", "organisers": {"clusters": [victim["slug"]]}}]}
    feeds.routes["/claims.json"] = Route(json.dumps(feed).encode(), headers=JSON)
    async with make_client(app, keys["alpha"]) as alpha:
        source = await factories.create(alpha, "/v1/calendar-sources", {"url": feeds.url("/claims.json"), "format": "json"})
        assert (await alpha.post(f"/v1/calendar-sources/{source['id']}/sync")).json()["created"] == 1
    assert await _organising(client, "Claimed mission") == ["alpha"]


async def test_an_import_through_a_source_organises_for_its_cluster(app, client, feeds, keys):
    source = await factories.create(client, "/v1/calendar-sources", {"url": feeds.url("/alpha.ics"), "cluster": "alpha"})
    upload = calendar(event("up-1", "Uploaded", "20300701", "20300703"))
    async with make_client(app, keys["alpha"]) as alpha:
        report = await alpha.post("/v1/missions/import", params={"source": source["id"]}, content=upload, headers=ICS)
    assert report.json()["created"] == 1
    assert await _organising(client, "Uploaded") == ["alpha"]


async def test_plain_uploads_are_organised_by_the_uploaders_cluster_and_not_taken_over(app, client, keys):
    async with make_client(app, keys["alpha"]) as alpha:
        upload = calendar(event("plain-1", "Alpha upload", "20300701", "20300703"))
        assert (await alpha.post("/v1/missions/import", content=upload, headers=ICS)).json()["created"] == 1
    assert await _organising(client, "Alpha upload") == ["alpha"]
    async with make_client(app, keys["unbound"]) as unbound:
        upload = calendar(event("plain-2", "Unbound upload", "20300701", "20300703"))
        assert (await unbound.post("/v1/missions/import", content=upload, headers=ICS)).json()["created"] == 1
    assert await _organising(client, "Unbound upload") == []
    # Beta sends events with the UIDs of alpha's upload and of the unowned one: both refused, neither changed.
    before = await collect(client, "/v1/missions", {})
    async with make_client(app, keys["beta"]) as beta:
        takeover = calendar(event("plain-1", "Beta's now", "20300801", "20300803"),
                            event("plain-2", "Beta's now", "20300801", "20300803"))
        report = (await beta.post("/v1/missions/import", content=takeover, headers=ICS)).json()
    assert (report["created"], report["updated"]) == (0, 0)
    assert sorted(r["uid"] for r in report["rejected"]) == ["plain-1", "plain-2"]
    assert await collect(client, "/v1/missions", {}) == before

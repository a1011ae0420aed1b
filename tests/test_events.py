"""Every change of a resource writes its event, in the changing transaction.

These run in the rolled-back test transaction, where the feed shows nothing (an event appears
only once every transaction older than its own has ended, and the test's never does): they
read the events table itself. The feed's order, paging and the late commit are in
tests/ops/test_event_feed.py, on a committed database.
"""

import uuid

import pytest
from sqlalchemy import select

from service.access.principal import SYSTEM_WRITE
from service.clusters import service as clusters
from service.clusters.schemas import ClusterCreate
from service.models import Event
from tests import factories
from tests.bulk.helpers import ndjson, report
from tests.feeds import FeedServer, Route, local_feed_settings
from tests.problems import assert_problem
from tests.test_calendar_sync import ICS, calendar, event


@pytest.fixture
def settings():
    return local_feed_settings()


async def events_of(session, resource_id: str) -> list[tuple[str, int | None, dict]]:
    """(type, version, data) of a resource's events, oldest first."""
    rows = await session.scalars(select(Event).where(Event.resource_id == uuid.UUID(resource_id)).order_by(Event.id))
    return [(e.type, e.resource_version, e.data) for e in rows]


@pytest.mark.parametrize(("kind", "path", "body", "patch"), [
    ("cluster", "/v1/clusters", factories.cluster, {"city": "Lyon"}),
    ("agreement", "/v1/agreements", factories.agreement, {"title": "Renamed"}),
    ("opportunity", "/v1/opportunities", factories.opportunity, {"title": "Renamed"}),
])
async def test_create_update_delete(client, session, kind, path, body, patch):
    created = await factories.create(client, path, body())
    url = f"{path}/{created['id']}"
    assert (await client.patch(url, json=patch)).status_code == 200
    updated = (await client.get(url)).json()
    assert (await client.delete(url)).status_code == 204
    assert await events_of(session, created["id"]) == [
        (f"{kind}.created", 1, created), (f"{kind}.updated", 2, updated), (f"{kind}.deleted", 2, updated),
    ]


@pytest.mark.parametrize(("kind", "path", "body"), [
    ("cluster", "/v1/clusters", factories.cluster),
    ("partnership", "/v1/partnerships", factories.partnership),
    ("mission", "/v1/missions", factories.mission),
    ("agreement", "/v1/agreements", factories.agreement),
    ("opportunity", "/v1/opportunities", factories.opportunity),
])
async def test_an_update_that_changes_nothing_writes_no_event(client, session, kind, path, body):
    created = await factories.create(client, path, body())
    name = "title" if "title" in created else "name"
    assert (await client.patch(f"{path}/{created['id']}", json={name: created[name]})).status_code == 200
    assert [t for t, _, _ in await events_of(session, created["id"])] == [f"{kind}.created"]


async def test_a_refused_change_writes_no_event(client, session):
    cluster = await factories.create(client, "/v1/clusters", factories.cluster())
    await factories.create(client, "/v1/partnerships", factories.partnership(members=[{"cluster": cluster["slug"]}]))
    assert_problem(await client.delete(f"/v1/clusters/{cluster['id']}"), 409)  # still a member
    assert_problem(await client.post("/v1/clusters", json=factories.cluster(slug=cluster["slug"])), 409)
    assert [t for t, _, _ in await events_of(session, cluster["id"])] == ["cluster.created"]
    assert await session.scalar(select(Event.id).where(Event.data["slug"].astext == cluster["slug"]).offset(1)) is None


async def test_a_rolled_back_change_writes_no_event(sessionmaker):
    async with sessionmaker() as session:
        created = await clusters.create(session, ClusterCreate.model_validate(factories.cluster()), SYSTEM_WRITE)
        assert len(await events_of(session, str(created.id))) == 1  # written in the transaction...
        await session.rollback()
        assert await events_of(session, str(created.id)) == []  # ...and gone with it


async def test_partnership_and_its_members(client, session):
    a, b = [await factories.create(client, "/v1/clusters", factories.cluster()) for _ in range(2)]
    created = await factories.create(client, "/v1/partnerships", factories.partnership(members=[{"cluster": a["slug"]}]))
    url = f"/v1/partnerships/{created['id']}"
    states = [created]
    assert (await client.post(f"{url}/members", json={"cluster": b["slug"]})).status_code == 201
    states.append((await client.get(url)).json())
    assert (await client.patch(f"{url}/members/{b['slug']}", json={"role": "partner"})).status_code == 200  # no change
    assert (await client.patch(f"{url}/members/{b['slug']}", json={"role": "coordinator"})).status_code == 200
    states.append((await client.get(url)).json())
    assert (await client.delete(f"{url}/members/{a['slug']}")).status_code == 204
    states.append((await client.get(url)).json())
    assert (await client.patch(url, json={"name": "Renamed"})).status_code == 200
    states.append((await client.get(url)).json())
    assert (await client.delete(url)).status_code == 204
    found = await events_of(session, created["id"])
    assert [t for t, _, _ in found] == ["partnership.created", *["partnership.updated"] * 4, "partnership.deleted"]
    assert [data for _, _, data in found] == [*states, states[-1]]
    assert [v for _, v, _ in found] == [1, 2, 3, 4, 5, 5]


async def test_mission_participants_and_organisers(client, session):
    cluster = await factories.create(client, "/v1/clusters", factories.cluster())
    created = await factories.create(client, "/v1/missions", factories.mission())
    url = f"/v1/missions/{created['id']}"
    assert (await client.post(f"{url}/participants", json={"cluster": cluster["slug"], "smes": 2})).status_code == 201
    assert (await client.patch(f"{url}/participants/{cluster['slug']}", json={"smes": 2})).status_code == 200
    assert (await client.patch(f"{url}/participants/{cluster['slug']}", json={"smes": 3})).status_code == 200
    assert (await client.delete(f"{url}/participants/{cluster['slug']}")).status_code == 204
    assert (await client.patch(url, json={"organisers": {"clusters": [cluster["slug"]]}})).status_code == 200
    organised = (await client.get(url)).json()
    assert (await client.patch(url, json={"title": "Renamed"})).status_code == 200
    renamed = (await client.get(url)).json()
    assert (await client.delete(url)).status_code == 204
    found = await events_of(session, created["id"])
    assert [t for t, _, _ in found] == ["mission.created", *["mission.updated"] * 5, "mission.deleted"]
    assert found[0][2] == created and found[-2][2] == renamed and found[-1][2] == renamed
    assert found[4][2] == organised
    assert [v for _, v, _ in found][-2:] == [renamed["sequence"] + 1] * 2


async def test_calendar_syncs_write_mission_events(client, session):
    with FeedServer() as feeds:
        feeds.routes["/feed.ics"] = Route(calendar(
            event("ua-1", "Mission to Ukraine", "20300918", "20300921"),
            event("tw-1", "EU–Taiwan matchmaking", "20300604", "20300607", location="Taipei, Taiwan"),
        ), headers=ICS)
        source = await factories.create(client, "/v1/calendar-sources", {
            "url": feeds.url("/feed.ics"), "organiser": "EU Gateway", "default_kind": "business-mission",
        })
        sync = f"/v1/calendar-sources/{source['id']}/sync"
        assert (await client.post(sync)).status_code == 200
        assert (await client.post(sync)).status_code == 200  # unchanged: no event
        feeds.routes["/feed.ics"] = Route(calendar(
            event("ua-1", "Mission to Ukraine", "20300925", "20300928", sequence=1),
        ), headers=ICS)
        assert (await client.post(sync)).status_code == 200  # ua-1 moves, tw-1 is cancelled
    missions = (await client.get("/v1/missions", params={"limit": 100})).json()["items"]
    by_uid = {m["calendar"]["uid"]: m for m in missions if m["calendar"]}
    for uid in ("ua-1", "tw-1"):
        found = await events_of(session, by_uid[uid]["id"])
        assert [t for t, _, _ in found] == ["mission.created", "mission.updated"], uid
        assert found[-1][1:] == (by_uid[uid]["sequence"] + 1, by_uid[uid])
    assert by_uid["tw-1"]["status"] == "cancelled"


async def test_bulk_loads_write_one_event_per_changed_record(client, session):
    a, b = factories.cluster(), factories.cluster()
    assert (await report(client, "clusters", ndjson(a, b)))["created"] == 2
    ids = {c["slug"]: c["id"] for c in (await client.get("/v1/clusters", params={"limit": 100})).json()["items"]}
    assert (await report(client, "clusters", ndjson(a, b | {"city": "Lyon"})))["updated"] == 1
    assert (await report(client, "clusters", ndjson(a | {"city": "Nice"}), dry_run=True))["updated"] == 1
    first, second = await events_of(session, ids[a["slug"]]), await events_of(session, ids[b["slug"]])
    assert [(t, v) for t, v, _ in first] == [("cluster.created", 1)]
    assert [(t, v) for t, v, _ in second] == [("cluster.created", 1), ("cluster.updated", 2)]
    data = second[-1][2]
    assert (data["id"], data["slug"], data["city"], data["version"]) == (ids[b["slug"]], b["slug"], "Lyon", 2)
    assert "search" not in data


async def test_bulk_events_hold_the_child_rows(client, session):
    cluster = await factories.create(client, "/v1/clusters", factories.cluster())
    body = factories.partnership(members=[{"cluster": cluster["slug"], "role": "coordinator"}])
    await report(client, "partnerships", ndjson(body))
    await report(client, "partnerships", ndjson(body | {"members": [{"cluster": cluster["slug"], "role": "partner"}]}))
    stored = (await client.get(f"/v1/partnerships/{body['slug']}")).json()
    found = await events_of(session, stored["id"])
    assert [(t, v, d["members"]) for t, v, d in found] == [
        ("partnership.created", 1, [f"{cluster['id']}:coordinator"]),
        ("partnership.updated", 2, [f"{cluster['id']}:partner"]),
    ]


@pytest.mark.parametrize("after", ["nonsense", "eyJ0IjoxfQ", "x" * 1001])
async def test_a_forged_cursor_is_a_422_naming_after(client, after):
    assert_problem(await client.get("/v1/events", params={"after": after}), 422, "query.after")


async def test_an_altered_cursor_is_a_422_naming_after(client):
    cursor = (await client.get("/v1/events")).json()["next_cursor"]
    altered = cursor[:-2] + ("AA" if not cursor.endswith("AA") else "BB")
    assert_problem(await client.get("/v1/events", params={"after": altered}), 422, "query.after")


async def test_a_cursor_of_another_list_is_a_422_naming_after(client):
    for _ in range(2):
        await factories.create(client, "/v1/clusters", factories.cluster())
    cursor = (await client.get("/v1/clusters", params={"limit": 1})).json()["next_cursor"]
    assert_problem(await client.get("/v1/events", params={"after": cursor}), 422, "query.after")


@pytest.mark.parametrize("params", [{"limit": 0}, {"limit": 10_000}, {"type": "cluster.exploded"}])
async def test_bad_feed_parameters_are_422(client, params):
    assert_problem(await client.get("/v1/events", params=params), 422)


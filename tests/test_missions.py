"""Missions: validation, derived status over time, filters, participants."""

import re
from datetime import UTC, datetime

import pytest

from tests import factories
from tests.documented import assert_documented, document
from tests.lists import collect
from tests.problems import assert_problem


def at(day: str) -> datetime:
    return datetime.fromisoformat(day).replace(hour=12, tzinfo=UTC)


async def test_create_mission_with_organisers(client):
    cluster = await factories.create(client, "/v1/clusters", factories.cluster())
    partnership = await factories.create(client, "/v1/partnerships", factories.partnership())
    body = factories.mission(
        organisers={"clusters": [cluster["slug"]], "partnerships": [partnership["id"]], "external": "EU Gateway | Business Avenues"},
        cost_reimbursement_percent=80, capacity=20, outcomes={"bilateral_meetings": 140},
    )
    response = await client.post("/v1/missions", json=body)
    assert response.status_code == 201, response.text
    mission = response.json()
    assert response.headers["location"] == f"/v1/missions/{mission['id']}"
    assert mission["organisers"]["clusters"][0]["slug"] == cluster["slug"]
    assert mission["organisers"]["partnerships"][0]["slug"] == partnership["slug"]
    assert mission["organisers"]["external"] == "EU Gateway | Business Avenues"
    assert mission["cost_reimbursement_percent"] == 80.0
    assert mission["outcomes"] == {"participating_smes": None, "bilateral_meetings": 140, "business_contracts": None, "agreements_signed": None}
    assert mission["sequence"] == 0 and mission["calendar"] is None
    assert (await client.get(f"/v1/missions/{mission['id']}")).json() == mission


async def test_a_change_of_organisers_alone_is_a_new_sequence(client):
    first, second = [await factories.create(client, "/v1/clusters", factories.cluster()) for _ in range(2)]
    mission = await factories.create(client, "/v1/missions", factories.mission(organisers={"clusters": [first["slug"]]}))
    changed = await client.patch(f"/v1/missions/{mission['id']}", json={"organisers": {"clusters": [second["slug"]]}})
    assert changed.status_code == 200, changed.text
    assert changed.json()["sequence"] == mission["sequence"] + 1
    assert changed.json()["updated_at"] > mission["updated_at"]


@pytest.mark.parametrize(
    ("fields", "location"),
    [
        ({"starts_on": "2030-06-10", "ends_on": "2030-06-09"}, "body"),
        ({"application_deadline": "2030-06-11"}, "body"),
        ({"applications_open_on": "2030-05-01", "application_deadline": "2030-04-30"}, "body"),
        ({"cost_reimbursement_percent": 100.5}, "body.cost_reimbursement_percent"),
        ({"cost_reimbursement_percent": -1}, "body.cost_reimbursement_percent"),
        ({"destination_country": "XX"}, "body.destination_country"),
        ({"kind": "holiday"}, "body.kind"),
        ({"start_time": "09:00", "end_time": "17:00"}, "body"),
        ({"start_time": "09:00", "end_time": "17:00", "timezone": "Mars/Olympus"}, "body.timezone"),
        ({"start_time": "09:00+02:00", "end_time": "17:00", "timezone": "Europe/Berlin"}, "body.start_time"),
        ({"starts_on": "2030-06-10", "ends_on": "2030-06-10", "start_time": "17:00", "end_time": "09:00", "timezone": "UTC"}, "body"),
        ({"starts_on": "9999-12-31", "ends_on": "9999-12-31", "application_deadline": None}, "body.starts_on"),
        ({"organisers": {"clusters": ["nobody"]}}, "body.organisers.clusters.0"),
        ({"organisers": {"partnerships": ["none"]}}, "body.organisers.partnerships.0"),
        ({"capacity": 2**31}, "body.capacity"),
        ({"outcomes": {"bilateral_meetings": -3}}, "body.outcomes.bilateral_meetings"),
    ],
)
async def test_bad_missions_are_422(client, fields, location):
    assert_problem(await client.post("/v1/missions", json=factories.mission(**fields)), 422, location)
    assert (await client.get("/v1/missions")).json()["items"] == []


async def test_one_day_mission_defaults_its_end(client):
    mission = await factories.create(client, "/v1/missions", factories.mission(ends_on=None, starts_on="2030-02-02", application_deadline=None))
    assert mission["ends_on"] == "2030-02-02"


@pytest.mark.parametrize(
    ("today", "expected"),
    [
        ("2030-02-28", "planned"),              # before applications open
        ("2030-03-01", "applications-open"),    # opening day
        ("2030-04-30", "applications-open"),    # deadline day is still open
        ("2030-05-01", "applications-closed"),
        ("2030-06-10", "ongoing"),
        ("2030-06-14", "ongoing"),
        ("2030-06-15", "completed"),
    ],
)
async def test_status_follows_the_dates(client, clock, today, expected):
    mission = await factories.create(client, "/v1/missions", factories.mission())
    clock.at = at(today)
    assert (await client.get(f"/v1/missions/{mission['id']}")).json()["status"] == expected
    listed = await collect(client, "/v1/missions", {"status": expected})
    assert [m["id"] for m in listed] == [mission["id"]]
    open_now = await collect(client, "/v1/missions", {"applications_open": True})
    assert bool(open_now) == (expected == "applications-open")


async def test_status_without_an_application_window_and_cancelled(client, clock):
    clock.at = at("2030-01-01")
    plain = await factories.create(client, "/v1/missions", factories.mission(applications_open_on=None, application_deadline=None))
    assert plain["status"] == "planned"
    only_deadline = await factories.create(client, "/v1/missions", factories.mission(applications_open_on=None))
    assert only_deadline["status"] == "applications-open"
    cancelled = await client.patch(f"/v1/missions/{only_deadline['id']}", json={"cancelled": True})
    assert cancelled.json()["status"] == "cancelled" and cancelled.json()["sequence"] == 1


async def test_mission_filters(client):
    cluster = await factories.create(client, "/v1/clusters", factories.cluster())
    partnership = await factories.create(client, "/v1/partnerships", factories.partnership())
    a = await factories.create(client, "/v1/missions", factories.mission(
        destination_country="BR", kind="matchmaking-event", sectors=["aerospace"], starts_on="2030-08-08", ends_on="2030-08-12",
        application_deadline="2030-06-08", organisers={"clusters": [cluster["slug"]]}, title="Low-carbon mission to São Paulo",
    ))
    b = await factories.create(client, "/v1/missions", factories.mission(
        destination_country="TW", kind="trade-fair", starts_on="2030-06-04", ends_on="2030-06-06",
        organisers={"partnerships": [partnership["slug"]]}, description="Photonics matchmaking in Taipei",
    ))
    c = await factories.create(client, "/v1/missions", factories.mission(destination_country="US", starts_on="2030-05-01", ends_on="2030-05-02"))
    cases = [
        ({"destination": "BR"}, [a]),
        ({"destination": ["BR", "TW"]}, [b, a]),
        ({"sector": "aerospace"}, [a]),
        ({"kind": "trade-fair"}, [b]),
        ({"organiser": cluster["slug"]}, [a]),
        ({"organiser": partnership["slug"]}, [b]),
        ({"organiser": [cluster["slug"], partnership["slug"]]}, [b, a]),
        ({"starts_after": "2030-06-04"}, [b, a]),
        ({"starts_before": "2030-06-04"}, [c, b]),
        ({"starts_after": "2030-05-02", "starts_before": "2030-07-01"}, [b]),
        ({"q": "sao paulo"}, [a]),
        ({"q": "taipei"}, [b]),
        ({}, [c, b, a]),
        ({"sort": "-starts_on"}, [a, b, c]),
    ]
    for params, expected in cases:
        got = await collect(client, "/v1/missions", params | {"limit": 1})
        assert [m["id"] for m in got] == [m["id"] for m in expected], params


async def test_patch_keeps_rules_and_grows_sequence(client):
    mission = await factories.create(client, "/v1/missions", factories.mission())
    url = f"/v1/missions/{mission['id']}"
    assert_problem(await client.patch(url, json={"ends_on": "2030-06-01"}), 422)
    moved = await client.patch(url, json={"starts_on": "2030-07-01", "ends_on": "2030-07-03"})
    assert moved.status_code == 200 and moved.json()["sequence"] == 1
    again = await client.patch(url, json={"title": "Renamed"})
    assert again.json()["sequence"] == 2
    same = await client.patch(url, json={"title": "Renamed"})
    assert same.json()["sequence"] == 2  # nothing changed, nothing written
    assert_problem(await client.get("/v1/missions/not-a-uuid"), 404)


async def test_participants(client):
    mission = await factories.create(client, "/v1/missions", factories.mission())
    cluster = await factories.create(client, "/v1/clusters", factories.cluster())
    base = f"/v1/missions/{mission['id']}/participants"
    added = await client.post(base, json={"cluster": cluster["slug"], "smes": 4})
    assert added.status_code == 201 and added.json()["smes"] == 4
    assert_problem(await client.post(base, json={"cluster": cluster["id"]}), 409)
    assert_problem(await client.post(base, json={"cluster": "ghost"}), 422, "body.cluster")
    etag = (await client.get(f"{base}/{cluster['slug']}")).headers["etag"]
    changed = await client.patch(f"{base}/{cluster['slug']}", json={"smes": 6}, headers={"If-Match": etag})
    assert changed.json()["smes"] == 6
    assert_problem(await client.patch(f"{base}/{cluster['slug']}", json={"smes": 7}, headers={"If-Match": etag}), 412)
    assert [p["cluster"]["slug"] for p in (await client.get(base)).json()["items"]] == [cluster["slug"]]
    assert_problem(await client.delete(f"/v1/clusters/{cluster['id']}"), 409)
    assert (await client.delete(f"{base}/{cluster['id']}")).status_code == 204
    assert_problem(await client.get(f"{base}/{cluster['id']}"), 404)


async def test_organisers_cannot_be_deleted_while_organising(client):
    cluster = await factories.create(client, "/v1/clusters", factories.cluster())
    mission = await factories.create(client, "/v1/missions", factories.mission(organisers={"clusters": [cluster["slug"]]}))
    assert_problem(await client.delete(f"/v1/clusters/{cluster['slug']}"), 409)
    assert (await client.patch(f"/v1/missions/{mission['id']}", json={"organisers": {}})).status_code == 200
    assert (await client.delete(f"/v1/clusters/{cluster['slug']}")).status_code == 204


async def test_times_are_answered_in_the_shape_they_are_taken(client):
    # Local wall-clock times in `timezone`: the answer validates against the document and can
    # be sent back as it is.
    mission = await factories.create(client, "/v1/missions", factories.mission(start_time="09:00", end_time="17:30", timezone="Asia/Taipei"))
    assert (mission["start_time"], mission["end_time"]) == ("09:00:00", "17:30:00")
    assert_documented(mission, "Mission")
    again = await client.patch(f"/v1/missions/{mission['id']}", json={"start_time": mission["start_time"], "end_time": mission["end_time"]})
    assert again.status_code == 200 and again.json()["start_time"] == "09:00:00"


@pytest.mark.parametrize("value", ["09:00:00Z", "09:00+08:00", "09:00:00.5", "9:00", "24:00", "0900"])
async def test_times_outside_the_documented_pattern_are_refused(client, value):
    schema = document()["components"]["schemas"]["MissionCreate"]["properties"]["start_time"]["anyOf"][0]
    assert not re.search(schema["pattern"], value)
    body = factories.mission(start_time=value, end_time="17:30", timezone="Asia/Taipei")
    assert_problem(await client.post("/v1/missions", json=body), 422, "body.start_time")

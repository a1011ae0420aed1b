"""Meeting setup, availability and meeting requests: shapes, rules and status transitions."""

import pytest

from tests import meetings
from tests.meetings import SETUP, accepted, answer, ask


@pytest.fixture
async def world(client, session):
    return await meetings.build(client, session)


async def test_setup_is_read_back_with_its_slots(client, world):
    response = await client.get(world.path("/meeting-setup"))
    assert response.status_code == 200
    body = response.json()
    assert body["timezone"] == "Europe/Berlin"
    assert [(s["name"], s["starts_at"], s["slots"]) for s in body["sessions"]] == [
        ("day-1", "2030-06-11T09:00:00", 3), ("day-2", "2030-06-12T14:00:00", 2)]
    assert response.headers["ETag"]


@pytest.mark.parametrize("change, message", [
    ({"sessions": [{"name": "a", "starts_at": "2030-06-11T10:00", "ends_at": "2030-06-11T09:00"}]}, "ends after"),
    ({"sessions": [{"name": "a", "starts_at": "2030-06-11T09:00", "ends_at": "2030-06-11T11:00"},
                   {"name": "b", "starts_at": "2030-06-11T10:00", "ends_at": "2030-06-11T12:00"}]}, "overlap"),
    ({"sessions": [{"name": "a", "starts_at": "2030-06-11T09:00", "ends_at": "2030-06-11T10:00"},
                   {"name": "a", "starts_at": "2030-06-12T09:00", "ends_at": "2030-06-12T10:00"}]}, "differ"),
    ({"sessions": [{"name": "a", "starts_at": "2030-06-11T09:00+02:00", "ends_at": "2030-06-11T10:00"}]}, "offset"),
    ({"sessions": [{"name": "a", "starts_at": "2030-06-11T09:00", "ends_at": "2030-06-11T09:10"}]}, "at least one"),
    ({"meeting_minutes": 5, "sessions": [
        {"name": f"d{i}", "starts_at": f"2030-06-{i:02}T00:00", "ends_at": f"2030-06-{i:02}T23:59"} for i in range(1, 5)]},
     "more than 1000 slots"),
    ({"meeting_minutes": 0}, "greater"),
    ({"tables": 0}, "greater"),
])
async def test_a_bad_setup_is_refused(client, world, change, message):
    response = await client.put(world.path("/meeting-setup"), json=SETUP | change)
    assert response.status_code == 422
    assert message in response.text


async def test_setup_of_an_unknown_mission_is_404(client):
    assert (await client.get("/v1/missions/00000000-0000-0000-0000-000000000000/meeting-setup")).status_code == 404
    assert (await client.put("/v1/missions/nope/meeting-setup", json=SETUP)).status_code == 404


async def test_availability_names_sessions_of_the_setup(client, world):
    response = await client.put(world.path("/participants/beta/availability"), json={"sessions": ["day-2", "day-2"]})
    assert response.status_code == 200
    assert response.json()["sessions"] == ["day-2"]
    response = await client.put(world.path("/participants/beta/availability"), json={"sessions": ["day-9"]})
    assert response.status_code == 422
    response = await client.put(world.path("/participants/epsilon/availability"), json={"sessions": ["day-1"]})
    assert response.status_code == 404


async def test_availability_needs_sessions(client, session):
    world = await meetings.build(client, session, setup=False)
    response = await client.put(world.path("/participants/beta/availability"), json={"sessions": []})
    assert response.status_code == 409


async def test_a_request_is_made_between_participants(client, world):
    made = await ask(client, world, "beta", "gamma")
    assert made["status"] == "pending"
    assert (made["from"]["slug"], made["to"]["slug"], made["message"]) == ("beta", "gamma", "Let's talk")
    got = await client.get(world.path(f"/meeting-requests/{made['id']}"))
    assert got.status_code == 200 and got.json() == made


@pytest.mark.parametrize("body, status", [
    ({"from": "beta", "to": "beta"}, 422),
    ({"from": "beta", "to": "epsilon"}, 422),
    ({"from": "epsilon", "to": "beta"}, 422),
    ({"from": "alpha", "to": "beta"}, 422),  # organising is not taking part
    ({"from": "beta", "to": "no-such-cluster"}, 422),
    ({"from": "beta"}, 422),
    ({"from": "beta", "to": "gamma", "message": "x" * 20_001}, 422),
    ({"from": "beta", "to": "gamma\x00"}, 422),
])
async def test_a_bad_request_is_refused(client, world, body, status):
    assert (await client.post(world.path("/meeting-requests"), json=body)).status_code == status


@pytest.mark.parametrize("first, second", [(("beta", "gamma"), ("beta", "gamma")), (("beta", "gamma"), ("gamma", "beta"))])
async def test_one_open_request_per_pair(client, world, first, second):
    made = await ask(client, world, *first)
    response = await client.post(world.path("/meeting-requests"), json={"from": second[0], "to": second[1]})
    assert response.status_code == 409
    await answer(client, world, made["id"], "accepted")
    assert (await client.post(world.path("/meeting-requests"), json={"from": second[0], "to": second[1]})).status_code == 409
    await answer(client, world, made["id"], "withdrawn")
    await ask(client, world, *second)


async def test_a_declined_pair_may_ask_again(client, world):
    made = await ask(client, world, "beta", "gamma")
    await answer(client, world, made["id"], "declined")
    await ask(client, world, "gamma", "beta")


ALLOWED = [("pending", "accepted"), ("pending", "declined"), ("pending", "withdrawn"), ("accepted", "withdrawn")]
REFUSED = [
    ("accepted", "accepted"), ("accepted", "declined"),
    ("declined", "accepted"), ("declined", "declined"), ("declined", "withdrawn"),
    ("withdrawn", "accepted"), ("withdrawn", "declined"), ("withdrawn", "withdrawn"),
]


async def _in_status(client, world, status: str) -> dict:
    made = await ask(client, world, "beta", "gamma")
    if status != "pending":
        made = await answer(client, world, made["id"], status)
    return made


@pytest.mark.parametrize("before, after", ALLOWED)
async def test_allowed_transitions(client, world, before, after):
    made = await _in_status(client, world, before)
    assert (await answer(client, world, made["id"], after))["status"] == after


@pytest.mark.parametrize("before, after", REFUSED)
async def test_invalid_transitions_are_409(client, world, before, after):
    if before == "declined" or before == "withdrawn":
        made = await _in_status(client, world, "pending")
        await answer(client, world, made["id"], before)
    else:
        made = await _in_status(client, world, before)
    response = await client.patch(world.path(f"/meeting-requests/{made['id']}"), json={"status": after})
    assert response.status_code == 409
    assert response.headers["content-type"] == "application/problem+json"


async def test_back_to_pending_is_not_a_status_to_ask_for(client, world):
    made = await ask(client, world, "beta", "gamma")
    response = await client.patch(world.path(f"/meeting-requests/{made['id']}"), json={"status": "pending"})
    assert response.status_code == 422


async def test_a_request_filter_by_cluster_and_status(client, world):
    await accepted(client, world, "beta", "gamma")
    await ask(client, world, "delta", "beta")
    listed = (await client.get(world.path("/meeting-requests"), params={"cluster": "gamma"})).json()["items"]
    assert [(r["from"]["slug"], r["to"]["slug"]) for r in listed] == [("beta", "gamma")]
    listed = (await client.get(world.path("/meeting-requests"), params={"status": "pending"})).json()["items"]
    assert [(r["from"]["slug"], r["to"]["slug"]) for r in listed] == [("delta", "beta")]


async def test_unknown_requests_are_404(client, world):
    for ref in ("00000000-0000-0000-0000-000000000000", "not-an-id"):
        assert (await client.get(world.path(f"/meeting-requests/{ref}"))).status_code == 404
        assert (await client.patch(world.path(f"/meeting-requests/{ref}"), json={"status": "accepted"})).status_code == 404


async def test_if_match_guards_an_answer(client, world):
    made = await ask(client, world, "beta", "gamma")
    response = await client.patch(world.path(f"/meeting-requests/{made['id']}"), json={"status": "accepted"},
                                  headers={"If-Match": '"stale"'})
    assert response.status_code == 412

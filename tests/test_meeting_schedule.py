"""Scheduling through the API: every schedule re-checked with scheduler.violations, published
meetings kept by a re-run, publishing, and recording meetings held or no-show."""

import uuid
from datetime import datetime, timedelta

import pytest

from service.meetings import scheduler
from tests import meetings
from tests.meetings import accepted, answer, ask

SLOT_STARTS = [datetime(2030, 6, 11, 9, 0) + timedelta(minutes=30 * i) for i in range(3)] + [
    datetime(2030, 6, 12, 14, 0) + timedelta(minutes=30 * i) for i in range(2)]
DAY_1 = frozenset({0, 1, 2})
DAY_2 = frozenset({3, 4})


@pytest.fixture
async def world(client, session):
    return await meetings.build(client, session)


async def _schedule(client, world, **body) -> dict:
    response = await client.post(world.path("/schedule"), json=body or None)
    assert response.status_code == 200, response.text
    return response.json()


async def _verify(client, world, availability: dict[str, frozenset[int]]) -> list[dict]:
    """The stored meetings break none of the scheduler's rules, checked anew from the API's answers."""
    listed = (await client.get(world.path("/meetings"))).json()["items"]
    requests = (await client.get(world.path("/meeting-requests"), params={"status": "accepted"})).json()["items"]
    problem = scheduler.Problem(
        slots=tuple(range(len(SLOT_STARTS))), tables=2,
        requests=scheduler.requests_of((r["id"], r["from"]["slug"], r["to"]["slug"]) for r in requests),
        available=dict(availability),
    )
    placed = {m["request_id"]: scheduler.Placed(SLOT_STARTS.index(datetime.fromisoformat(m["starts_at"])), m["table"])
              for m in listed}
    assert scheduler.violations(problem, placed) == []
    for meeting in listed:
        assert datetime.fromisoformat(meeting["ends_at"]) - datetime.fromisoformat(meeting["starts_at"]) == timedelta(minutes=30)
    return listed


async def test_schedule_places_every_accepted_request_within_the_rules(client, world):
    await client.put(world.path("/participants/beta/availability"), json={"sessions": ["day-2"]})
    for pair in (("beta", "gamma"), ("beta", "delta"), ("gamma", "delta")):
        await accepted(client, world, *pair)
    result = await _schedule(client, world)
    assert result["scheduled"] == 3 and result["left_out"] == [] and result["upper_bound"] == 3
    assert result["optimal"] is True and result["seconds"] >= 0
    listed = await _verify(client, world, {"beta": DAY_2})
    assert {m["status"] for m in listed} == {"scheduled"}
    assert all(SLOT_STARTS.index(datetime.fromisoformat(m["starts_at"])) in DAY_2
               for m in listed if "beta" in {c["slug"] for c in m["clusters"]})


async def test_only_accepted_requests_are_scheduled(client, world):
    await ask(client, world, "beta", "gamma")
    declined = await ask(client, world, "beta", "delta")
    await answer(client, world, declined["id"], "declined")
    assert (await _schedule(client, world))["scheduled"] == 0


async def test_a_request_that_cannot_be_placed_comes_with_its_reason(client, world):
    await client.put(world.path("/participants/beta/availability"), json={"sessions": ["day-1"]})
    await client.put(world.path("/participants/gamma/availability"), json={"sessions": ["day-2"]})
    made = await accepted(client, world, "beta", "gamma")
    result = await _schedule(client, world)
    assert result["scheduled"] == 0
    [left] = result["left_out"]
    assert left["request_id"] == made["id"]
    assert [c["slug"] for c in left["clusters"]] == ["beta", "gamma"]
    assert left["reason"]
    assert result["upper_bound"] == 0


async def test_a_rerun_keeps_published_meetings_where_they_are(client, world):
    first = await accepted(client, world, "beta", "gamma")
    await _schedule(client, world)
    assert (await client.post(world.path("/schedule/publish"))).json() == {"published": 1}
    before = {m["request_id"]: m for m in (await client.get(world.path("/meetings"))).json()["items"]}
    # beta can now meet only on day 2, and more requests come in: the published one stays put.
    await client.put(world.path("/participants/delta/availability"), json={"sessions": ["day-1"]})
    await accepted(client, world, "beta", "delta")
    await accepted(client, world, "gamma", "delta")
    result = await _schedule(client, world)
    after = {m["request_id"]: m for m in result["meetings"]}
    assert after[first["id"]] == before[first["id"]]
    assert result["scheduled"] == 3
    await _verify(client, world, {"delta": DAY_1})


async def test_reschedule_all_frees_published_meetings(client, world):
    await accepted(client, world, "beta", "gamma")
    await _schedule(client, world)
    await client.post(world.path("/schedule/publish"))
    result = await _schedule(client, world, reschedule="all")
    assert [m["status"] for m in result["meetings"]] == ["scheduled"]


async def test_scheduling_needs_a_setup(client, session):
    world = await meetings.build(client, session, setup=False)
    assert (await client.post(world.path("/schedule"))).status_code == 409


async def test_the_setup_cannot_change_under_published_meetings(client, world):
    await accepted(client, world, "beta", "gamma")
    await _schedule(client, world)
    assert (await client.put(world.path("/meeting-setup"), json=meetings.SETUP)).status_code == 200
    assert (await client.get(world.path("/meetings"))).json()["items"] == []  # the draft went with the old slots
    await _schedule(client, world)
    await client.post(world.path("/schedule/publish"))
    assert (await client.put(world.path("/meeting-setup"), json=meetings.SETUP)).status_code == 409


async def test_withdrawing_an_accepted_request_cancels_its_meeting(client, world):
    made = await accepted(client, world, "beta", "gamma")
    await _schedule(client, world)
    await answer(client, world, made["id"], "withdrawn")
    assert (await client.get(world.path("/meetings"))).json()["items"] == []


async def _published(client, world) -> dict:
    await accepted(client, world, "beta", "gamma")
    await _schedule(client, world)
    await client.post(world.path("/schedule/publish"))
    [meeting] = (await client.get(world.path("/meetings"))).json()["items"]
    return meeting


RECORD_ALLOWED = [("published", "held"), ("published", "no-show"), ("held", "no-show"), ("no-show", "held")]


@pytest.mark.parametrize("before, after", RECORD_ALLOWED)
async def test_recording_a_meeting(client, world, before, after):
    meeting = await _published(client, world)
    if before != "published":
        await client.patch(world.path(f"/meetings/{meeting['id']}"), json={"status": before})
    response = await client.patch(world.path(f"/meetings/{meeting['id']}"), json={"status": after})
    assert response.status_code == 200 and response.json()["status"] == after


@pytest.mark.parametrize("status", ["held", "no-show"])
async def test_an_unpublished_meeting_cannot_be_recorded(client, world, status):
    await accepted(client, world, "beta", "gamma")
    [meeting] = (await _schedule(client, world))["meetings"]
    response = await client.patch(world.path(f"/meetings/{meeting['id']}"), json={"status": status})
    assert response.status_code == 409


@pytest.mark.parametrize("status", ["scheduled", "published"])
async def test_a_meeting_goes_back_to_no_plan_status(client, world, status):
    meeting = await _published(client, world)
    assert (await client.patch(world.path(f"/meetings/{meeting['id']}"), json={"status": status})).status_code == 422


async def test_recorded_meetings_make_the_schedule_final(client, world):
    meeting = await _published(client, world)
    await client.patch(world.path(f"/meetings/{meeting['id']}"), json={"status": "held"})
    assert (await client.post(world.path("/schedule"))).status_code == 409
    response = await client.patch(world.path(f"/meeting-requests/{meeting['request_id']}"), json={"status": "withdrawn"})
    assert response.status_code == 409


async def test_held_meetings_are_the_missions_bilateral_meetings(client, world):
    meeting = await _published(client, world)
    await client.patch(world.path(f"/meetings/{meeting['id']}"), json={"status": "held"})
    mission = (await client.get(world.path())).json()
    assert mission["outcomes"]["bilateral_meetings"] == 1
    await client.patch(world.path(f"/meetings/{meeting['id']}"), json={"status": "no-show"})
    assert (await client.get(world.path())).json()["outcomes"]["bilateral_meetings"] == 0


async def test_meetings_filter_by_cluster_and_status(client, world):
    await accepted(client, world, "beta", "gamma")
    await accepted(client, world, "gamma", "delta")
    await _schedule(client, world)
    listed = (await client.get(world.path("/meetings"), params={"cluster": "beta"})).json()["items"]
    assert [[c["slug"] for c in m["clusters"]] for m in listed] == [["beta", "gamma"]]
    assert (await client.get(world.path("/meetings"), params={"status": "published"})).json()["items"] == []
    assert (await client.get(world.path("/meetings"), params={"cluster": "epsilon"})).status_code == 422


async def test_unknown_meetings_are_404(client, world):
    for ref in (str(uuid.uuid4()), "x"):
        assert (await client.patch(world.path(f"/meetings/{ref}"), json={"status": "held"})).status_code == 404

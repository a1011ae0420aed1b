"""A mission's meeting outcomes: typed in until a meeting is recorded, counted from then on,
and no PATCH, calendar figure or bulk row sets them to anything else."""

import json

import pytest
from sqlalchemy import text

from tests import factories, meetings
from tests.bulk.helpers import counts, ndjson, report
from tests.meetings import accepted
from tests.problems import assert_problem


@pytest.fixture
async def world(client, session):
    return await meetings.build(client, session)


async def _outcomes(client, world) -> dict:
    return (await client.get(world.path())).json()["outcomes"]


async def _record_one_held(client, world) -> None:
    await accepted(client, world, "beta", "gamma")
    await accepted(client, world, "beta", "delta")
    meeting = (await client.post(world.path("/schedule"))).json()["meetings"][0]
    assert (await client.post(world.path("/schedule/publish"))).status_code == 200
    held = await client.patch(world.path(f"/meetings/{meeting['id']}"), json={"status": "held"})
    assert held.status_code == 200, held.text


async def test_outcomes_are_typed_in_until_a_meeting_is_recorded(client, world):
    typed = await client.patch(world.path(), json={"outcomes": {"bilateral_meetings": 40, "agreements_signed": 3}})
    assert typed.status_code == 200, typed.text
    assert await _outcomes(client, world) == {"participating_smes": None, "bilateral_meetings": 40,
                                              "business_contracts": None, "agreements_signed": 3}
    await client.post(world.path("/schedule"))  # scheduled, even published, meetings count for nothing yet
    assert (await _outcomes(client, world))["bilateral_meetings"] == 40


async def test_once_recorded_reads_show_the_counts_and_a_patch_cannot_set_them(client, session, world):
    await client.patch(world.path(), json={"outcomes": {"bilateral_meetings": 40, "agreements_signed": 3}})
    await factories.create(client, "/v1/agreements", factories.agreement(clusters=["beta"], mission=world.mission))
    await _record_one_held(client, world)
    assert await _outcomes(client, world) == {"participating_smes": None, "bilateral_meetings": 1,
                                              "business_contracts": None, "agreements_signed": 1}
    for name, value in (("bilateral_meetings", 40), ("agreements_signed", 0), ("bilateral_meetings", None)):
        refused = await client.patch(world.path(), json={"outcomes": {name: value}})
        problem = assert_problem(refused, 409)
        assert f"outcomes.{name} is derived" in problem["detail"]
    # The counted figure itself, and the outcomes nobody counts, may be sent; one left out stays counted.
    kept = await client.patch(world.path(), json={"outcomes": {"bilateral_meetings": 1, "business_contracts": 2}})
    assert kept.status_code == 200, kept.text
    assert kept.json()["outcomes"] == {"participating_smes": None, "bilateral_meetings": 1,
                                       "business_contracts": 2, "agreements_signed": 1}
    assert await _outcomes(client, world) == kept.json()["outcomes"]
    # ...and is stored as counted, so the figures stand should the recorded meetings go.
    stored = (await session.execute(text("SELECT bilateral_meetings, agreements_signed FROM missions WHERE id = :id"),
                                    {"id": world.mission})).one()
    assert tuple(stored) == (1, 1)


async def test_an_agreement_linked_later_shows_without_recording_again(client, world):
    await _record_one_held(client, world)
    await factories.create(client, "/v1/agreements", factories.agreement(clusters=["gamma"], mission=world.mission))
    await factories.create(client, "/v1/agreements", factories.agreement(clusters=["delta"], mission=world.mission,
                                                                         status="draft"))
    assert (await _outcomes(client, world))["agreements_signed"] == 1
    listed = (await client.get("/v1/missions")).json()["items"]
    assert [m["outcomes"]["agreements_signed"] for m in listed if m["id"] == world.mission] == [1]


async def test_a_bulk_row_cannot_set_a_counted_outcome(client, world):
    await _record_one_held(client, world)
    # Linked after the recording: counted on every read, the export's included.
    await factories.create(client, "/v1/agreements", factories.agreement(clusters=["gamma"], mission=world.mission))
    mission = await client.get(world.path())
    external_id = mission.json()["external_id"]
    exported = [line for line in (await client.get("/v1/export/missions")).text.splitlines()
                if f'"{external_id}"' in line]
    assert len(exported) == 1
    assert {k: v for k, v in json.loads(exported[0])["outcomes"].items() if v} == {"bilateral_meetings": 1,
                                                                                   "agreements_signed": 1}
    # The export loads back as it is.
    again = await report(client, "missions", (exported[0] + "\n").encode())
    assert counts(again)[3] == 0, again
    row = json.loads(exported[0])
    for name, value in (("bilateral_meetings", 7), ("agreements_signed", None)):
        changed = row | {"outcomes": row["outcomes"] | {name: value}, "title": "Renamed"}
        body = await report(client, "missions", ndjson(changed), mode="partial")
        assert counts(body) == (0, 0, 0, 1), body
        assert body["errors"][0]["field"] == f"outcomes.{name}" and "derived" in body["errors"][0]["message"]
    assert (await client.get(world.path())).json()["title"] == mission.json()["title"]
    # Another mission's outcomes, with no meetings recorded, load as given.
    other = factories.mission(outcomes={"bilateral_meetings": 12})
    assert counts(await report(client, "missions", ndjson(other)))[0] == 1

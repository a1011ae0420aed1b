"""Meeting data in bulk: sessions, availability and requests round-trip through export and
load, a spreadsheet of an event loads and schedules, and only unbound keys load it."""

import json

import pytest
from sqlalchemy import text

from tests import factories
from tests.bulk.helpers import CSV, counts, csv_file, load, ndjson, report
from tests.conftest import issue_key, make_client
from tests.meetings import PARTICIPANTS, accepted, answer, ask, build

MEETING_RESOURCES = ("meeting-sessions", "meeting-availability", "meeting-requests")


@pytest.fixture
async def world(client, session):
    return await build(client, session)


async def _export(client, resource: str, mission: str, accept: str = "application/x-ndjson") -> list:
    response = await client.get(f"/v1/export/{resource}", headers={"Accept": accept})
    assert response.status_code == 200, response.text
    if accept == CSV:
        lines = response.text.splitlines()
        return [lines[0], *(line for line in lines[1:] if line.startswith(mission + ","))]
    return [r for r in map(json.loads, response.text.splitlines()) if r["mission"] == mission]


async def _fresh_mission(client) -> dict:
    mission = await factories.create(client, "/v1/missions", factories.mission(
        organisers={"clusters": ["alpha"]}, kind="matchmaking-event", timezone="Europe/Berlin"))
    for slug in PARTICIPANTS:
        await factories.create(client, f"/v1/missions/{mission['id']}/participants", {"cluster": slug})
    return mission


async def _mission_key(client, world) -> str:
    return str((await client.get(world.path())).json()["external_id"])


async def test_export_then_load_into_a_fresh_mission_gives_the_same_data(client, world):
    await client.put(world.path("/participants/beta/availability"), json={"sessions": ["day-2"]})
    await accepted(client, world, "beta", "gamma")
    await answer(client, world, (await ask(client, world, "delta", "beta", None))["id"], "declined")
    await ask(client, world, "gamma", "delta", "Tuesday?")
    fresh = await _fresh_mission(client)
    old, new = await _mission_key(client, world), fresh["external_id"]

    for resource, expected in zip(MEETING_RESOURCES, (2, 1, 3), strict=True):
        exported = await _export(client, resource, old)
        assert len(exported) == expected
        moved = [r | {"mission": new} for r in exported]
        assert counts(await report(client, resource, ndjson(*moved))) == (expected, 0, 0, 0)
        assert await _export(client, resource, new) == moved
        # Loading the same file again changes nothing.
        assert counts(await report(client, resource, ndjson(*moved))) == (0, 0, expected, 0)
        csv_lines = await _export(client, resource, new, CSV)
        body = ("\r\n".join(csv_lines) + "\r\n").encode()
        assert counts(await report(client, resource, body, CSV)) == (0, 0, expected, 0)

    setup = (await client.get(f"/v1/missions/{fresh['id']}/meeting-setup")).json()
    assert setup == (await client.get(world.path("/meeting-setup"))).json()


async def test_a_status_moves_as_the_api_lets_it_and_withdrawing_cancels_the_meeting(client, world):
    made = await ask(client, world, "beta", "gamma")
    mission = await _mission_key(client, world)
    row = {"mission": mission, "from": "beta", "to": "gamma", "message": made["message"]}
    assert counts(await report(client, "meeting-requests", ndjson(row | {"status": "accepted"}))) == (0, 1, 0, 0)
    assert (await client.post(world.path("/schedule"))).json()["scheduled"] == 1
    assert counts(await report(client, "meeting-requests", ndjson(row | {"status": "withdrawn"}))) == (0, 1, 0, 0)
    assert (await client.get(world.path("/meetings"))).json()["items"] == []
    # A withdrawn pair asks again through the API; the file's row now stands for the new request.
    again = await ask(client, world, "beta", "gamma", "Once more")
    body = await report(client, "meeting-requests", ndjson(row | {"message": "Once more", "status": "declined"}))
    assert counts(body) == (0, 1, 0, 0)
    listed = (await client.get(world.path(f"/meeting-requests/{again['id']}"))).json()
    assert listed["status"] == "declined"


SPREADSHEET_SESSIONS = """mission,name,starts_at,ends_at,meeting_minutes,tables
{m},morning,2030-06-11T09:00,2030-06-11T10:00,20,2
{m},afternoon,2030-06-11T14:00,2030-06-11T15:00,20,2
"""
SPREADSHEET_AVAILABILITY = """mission,cluster,sessions
{m},beta,morning
{m},gamma,morning;afternoon
"""
SPREADSHEET_REQUESTS = """mission,from,to,message,status
{m},beta,gamma,"Photonics, Boston",accepted
{m},gamma,delta,,accepted
{m},delta,beta,Maybe later,pending
"""


async def test_an_event_from_a_spreadsheet_loads_and_schedules(client, session):
    world = await build(client, session, setup=False)
    mission = await _mission_key(client, world)
    for resource, sheet, created in zip(
        MEETING_RESOURCES, (SPREADSHEET_SESSIONS, SPREADSHEET_AVAILABILITY, SPREADSHEET_REQUESTS), (2, 2, 3), strict=True,
    ):
        body = await report(client, resource, sheet.format(m=mission).encode(), CSV)
        assert counts(body) == (created, 0, 0, 0), body
    result = (await client.post(world.path("/schedule"))).json()
    assert result["scheduled"] == 2 and result["left_out"] == []
    # beta only meets in the morning.
    beta = [m for m in result["meetings"] if "beta" in {c["slug"] for c in m["clusters"]}]
    assert [m["starts_at"][11:13] for m in beta] == ["09"]


async def test_only_unbound_bulk_keys_load_meeting_data_and_bound_keys_export_no_private_part(app, client, session, world):
    bound_bulk = await issue_key(session, "bulk", "beta")
    bound_read = await issue_key(session, "read", "beta")
    unbound_read = await issue_key(session, "read")
    mission = await _mission_key(client, world)
    row = {"mission": mission, "cluster": "beta", "sessions": ["day-1"]}
    async with make_client(app, bound_bulk) as bound, make_client(app, unbound_read) as reader:
        for resource in MEETING_RESOURCES:
            response = await load(bound, resource, ndjson(row))
            assert response.status_code == 403, response.text
            assert (await load(reader, resource, ndjson(row))).status_code == 403
            assert (await reader.get(f"/v1/export/{resource}")).status_code == 200
    async with make_client(app, bound_read) as bound:
        assert (await bound.get("/v1/export/meeting-sessions")).status_code == 200
        for resource in ("meeting-availability", "meeting-requests"):
            response = await bound.get(f"/v1/export/{resource}")
            assert response.status_code == 403, response.text
    assert counts(await report(client, "meeting-availability", ndjson(row))) == (1, 0, 0, 0)


async def test_csv_header_names_from_by_its_alias(client, world):
    mission = await _mission_key(client, world)
    body = csv_file(["mission", "to"], [mission, "gamma"])
    response = await load(client, "meeting-requests", body, CSV)
    assert response.status_code == 422
    assert "column 'from' is required" in response.text


async def _events_of(session, resource_ids: list[str]) -> list[tuple[str, str]]:
    rows = await session.execute(text(
        "SELECT type, data->>'status' FROM events WHERE resource_id = ANY(CAST(:ids AS uuid[])) ORDER BY id"
    ), {"ids": resource_ids})
    return [tuple(row) for row in rows]


async def test_loads_write_the_events_the_api_writes(client, session, world):
    mission = await _mission_key(client, world)
    row = {"mission": mission, "from": "beta", "to": "gamma", "message": "Hello"}
    assert counts(await report(client, "meeting-requests", ndjson(row | {"status": "accepted"}))) == (1, 0, 0, 0)
    (made,) = (await client.get(world.path("/meeting-requests?cluster=beta"))).json()["items"]
    meeting = (await client.post(world.path("/schedule"))).json()["meetings"][0]
    assert counts(await report(client, "meeting-requests", ndjson(row | {"status": "withdrawn"}))) == (0, 1, 0, 0)

    assert await _events_of(session, [made["id"]]) == [
        ("meeting_request.created", "accepted"), ("meeting_request.withdrawn", "withdrawn"),
    ]
    assert await _events_of(session, [meeting["id"]]) == [("meeting.scheduled", "scheduled"), ("meeting.cancelled", "scheduled")]
    (data,) = (await session.execute(text(
        "SELECT data FROM events WHERE resource_id = CAST(:id AS uuid) AND type = 'meeting_request.withdrawn'"
    ), {"id": made["id"]})).scalars()
    # Public, like the API's: no message, no clusters.
    assert set(data) == {"id", "mission_id", "status"}


async def test_changed_sessions_cancel_the_unpublished_schedule_with_events(client, session, world):
    await accepted(client, world, "beta", "gamma")
    meeting = (await client.post(world.path("/schedule"))).json()["meetings"][0]
    mission = await _mission_key(client, world)
    sessions = await _export(client, "meeting-sessions", mission)
    moved = [sessions[0] | {"ends_at": sessions[0]["ends_at"][:-5] + "23:00"}]
    assert counts(await report(client, "meeting-sessions", ndjson(*moved)))[1] == 1
    assert (await _events_of(session, [meeting["id"]]))[-1] == ("meeting.cancelled", "scheduled")

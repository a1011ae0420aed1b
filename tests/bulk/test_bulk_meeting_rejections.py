"""Meeting rows the API would refuse are rejected rows of the report, never a 500 or half a load."""

import pytest
from sqlalchemy import text

from tests import factories
from tests.bulk.helpers import counts, load, ndjson, report
from tests.meetings import accepted, ask, build


@pytest.fixture
async def world(client, session):
    return await build(client, session)


@pytest.fixture
async def mission(client, world) -> str:
    return str((await client.get(world.path())).json()["external_id"])


def _errors(body: dict) -> list[tuple]:
    return [(e["line"], e["field"], e["message"]) for e in body["errors"]]


def _session(mission: str, name: str, start: str, end: str, **setup) -> dict:
    return {"mission": mission, "name": name, "starts_at": f"2030-06-13T{start}", "ends_at": f"2030-06-13T{end}",
            "meeting_minutes": 30, "tables": 2, **setup}


async def _partial(client, resource: str, *rows: dict) -> dict:
    return await report(client, resource, ndjson(*rows), mode="partial")


async def test_sessions_that_clash_break_the_setup_or_hold_no_meeting_are_rejected(client, mission):
    body = await _partial(
        client, "meeting-sessions",
        _session(mission, "day-3", "09:00", "10:00"),
        _session(mission, "day-3b", "09:30", "11:00"),  # overlaps line 1
        _session(mission, "day-1", "12:00", "13:00"),  # day-1 is stored, at another time
        _session(mission, "late", "14:00", "15:00", tables=5),  # another setup than line 1's
        _session(mission, "day-3", "16:00", "17:00"),  # line 1's name
        _session(mission, "short", "18:00", "18:20"),  # holds no 30-minute meeting
        _session(mission, "stored", "2030-06-11T10:00", "2030-06-11T11:00") | {"starts_at": "2030-06-11T10:00",
                                                                                "ends_at": "2030-06-11T11:00"},
        _session("no-such-mission", "x", "09:00", "10:00"),
    )
    assert counts(body) == (1, 0, 0, 7)
    assert _errors(body) == [
        (2, "starts_at", "overlaps session 'day-3' (2030-06-13T09:00 to 2030-06-13T10:00)"),
        (3, "name", "session 'day-1' is already the one at 2030-06-11T09:00"),
        (4, "meeting_minutes", f"line 1 gives mission '{mission}' meetings of 30 minutes at 2 tables; every session "
                               "row of a mission gives the same"),
        (5, "name", "session 'day-3' is on line 1 already"),
        (6, None, "a session holds at least one meeting of meeting_minutes"),
        (7, "starts_at", "overlaps session 'day-1' (2030-06-11T09:00 to 2030-06-11T10:30)"),
        (8, "mission", "there is no mission 'no-such-mission'"),
    ]


async def test_a_longer_meeting_that_leaves_a_stored_session_empty_rejects_the_missions_rows(client, mission):
    # day-2 (an hour) would hold no 90-minute meeting.
    body = await _partial(client, "meeting-sessions", _session(mission, "day-3", "09:00", "12:00", meeting_minutes=90))
    assert _errors(body) == [(1, "meeting_minutes", "a session of this mission would hold no meeting of meeting_minutes")]
    # Four days of 287 five-minute slots, and the 30 the stored sessions now hold.
    days = [_session(mission, f"day-{d}", "", "", meeting_minutes=5)
            | {"starts_at": f"2030-06-{d}T00:00", "ends_at": f"2030-06-{d}T23:59"} for d in range(15, 19)]
    body = await _partial(client, "meeting-sessions", *days)
    assert counts(body) == (0, 0, 0, 4)
    assert body["errors"][0]["message"] == "the mission's sessions would hold 1178 slots, more than 1000; use longer meetings"


async def test_sessions_do_not_change_once_meetings_are_published(client, world, mission):
    await accepted(client, world, "beta", "gamma")
    await client.post(world.path("/schedule"))
    assert (await client.post(world.path("/schedule/publish"))).status_code == 200
    same = _session(mission, "day-1", "", "") | {"starts_at": "2030-06-11T09:00", "ends_at": "2030-06-11T10:30"}
    body = await _partial(client, "meeting-sessions", same, _session(mission, "day-3", "09:00", "10:00"))
    assert counts(body) == (0, 0, 1, 1)
    assert body["errors"][0]["line"] == 2 and body["errors"][0]["message"].startswith("meetings of this mission are published")


async def test_a_changed_session_drops_the_unpublished_schedule(client, session, world, mission):
    await accepted(client, world, "beta", "gamma")
    assert (await client.post(world.path("/schedule"))).json()["scheduled"] == 1
    version = text("SELECT version FROM meeting_setups WHERE mission_id = :m")
    before = (await session.execute(version, {"m": world.mission})).scalar()  # a schedule run moves it too
    moved = _session(mission, "day-1", "", "") | {"starts_at": "2030-06-11T09:00", "ends_at": "2030-06-11T11:00"}
    assert counts(await report(client, "meeting-sessions", ndjson(moved))) == (0, 1, 0, 0)
    assert (await client.get(world.path("/meetings"))).json()["items"] == []
    # The setup moved with its session, though its length and tables did not change.
    assert (await session.execute(version, {"m": world.mission})).scalar() == before + 1
    setup = (await client.get(world.path("/meeting-setup"))).json()
    assert [(s["name"], s["slots"]) for s in setup["sessions"]] == [("day-1", 4), ("day-2", 2)]


async def test_availability_only_of_participants_for_existing_sessions(client, mission):
    def row(cluster: str, *sessions: str, at: str = mission) -> dict:
        return {"mission": at, "cluster": cluster, "sessions": list(sessions)}

    bare = await factories.create(client, "/v1/missions", factories.mission())
    await factories.create(client, f"/v1/missions/{bare['id']}/participants", {"cluster": "beta"})
    bare_mission = bare["external_id"]
    body = await _partial(
        client, "meeting-availability",
        row("beta", "day-1", "day-1"), row("epsilon", "day-1"), row("gamma", "day-1", "night", "dawn"),
        row("beta", "day-1", at=bare_mission), row("nobody"),
    )
    assert counts(body) == (1, 0, 0, 4)
    assert _errors(body) == [
        (2, "cluster", f"cluster 'epsilon' does not take part in mission '{mission}'"),
        (3, "sessions", "no such session: night, dawn"),
        (4, "mission", f"mission '{bare_mission}' has no meeting sessions yet"),
        (5, "cluster", "there is no cluster 'nobody'"),
    ]
    assert (await client.get("/v1/export/meeting-availability")).text.count('"sessions":["day-1"]') == 1


async def test_requests_the_api_would_refuse_are_rejected(client, world, mission):
    def row(asking: str, asked: str, status: str = "pending", message: str | None = None) -> dict:
        return {"mission": mission, "from": asking, "to": asked, "status": status, "message": message}

    pending = await ask(client, world, "delta", "gamma", "Hello")
    await accepted(client, world, "beta", "gamma")
    body = await _partial(
        client, "meeting-requests",
        row("beta", "beta"), row("beta", "epsilon"), row("gamma", "beta"),  # self, outsider, open pair reversed
        row("delta", "beta"), row("beta", "delta", "accepted"),  # a pair asked twice in one file
        row("beta", "gamma", "pending", "Let's talk"),  # accepted cannot become pending again
        row("delta", "gamma", "declined", "Changed my mind"),  # a sent message stays
    )
    assert counts(body) == (1, 0, 0, 6)
    open_pair = "a pending or accepted meeting request already joins these two clusters"
    assert _errors(body) == [
        (1, "to", "a cluster does not ask itself for a meeting"),
        (2, "to", f"cluster 'epsilon' does not take part in mission '{mission}'"),
        (3, "to", open_pair),
        (5, "to", open_pair),
        (6, "status", "a accepted meeting request cannot become pending"),
        (7, "message", "the message of a sent meeting request does not change"),
    ]
    stored = (await client.get(world.path(f"/meeting-requests/{pending['id']}"))).json()
    assert stored["status"] == "pending"


async def test_a_rejected_closing_row_keeps_the_pair_open(client, world, mission):
    await ask(client, world, "beta", "gamma", "Hi")
    # Line 1 would close the pair (but changes its message), so line 2 finds it still open.
    body = await _partial(
        client, "meeting-requests",
        {"mission": mission, "from": "beta", "to": "gamma", "status": "withdrawn", "message": "Other"},
        {"mission": mission, "from": "gamma", "to": "beta", "status": "pending"},
    )
    assert [(line, field) for line, field, _ in _errors(body)] == [(1, "message"), (2, "to")]


async def test_a_recorded_meeting_is_not_withdrawn(client, world, mission):
    await accepted(client, world, "beta", "gamma")
    await client.post(world.path("/schedule"))
    await client.post(world.path("/schedule/publish"))
    (meeting,) = (await client.get(world.path("/meetings"))).json()["items"]
    assert (await client.patch(world.path(f"/meetings/{meeting['id']}"), json={"status": "held"})).status_code == 200
    row = {"mission": mission, "from": "beta", "to": "gamma", "status": "withdrawn", "message": "Let's talk"}
    body = await _partial(client, "meeting-requests", row)
    assert _errors(body) == [(1, "status", "the meeting of this request is recorded as held or no-show; it can no "
                                           "longer be withdrawn")]


async def test_a_strict_load_with_a_bad_row_applies_nothing(client, world, mission):
    rows = [{"mission": mission, "from": "beta", "to": "gamma"}, {"mission": mission, "from": "beta", "to": "beta"}]
    response = await load(client, "meeting-requests", ndjson(*rows))
    assert response.status_code == 422 and response.json()["report"]["rejected"] == 1
    assert (await client.get(world.path("/meeting-requests"))).json()["items"] == []


async def test_a_record_named_twice_once_by_id_is_rejected(client, world, mission):
    beta = (await client.get("/v1/clusters/beta")).json()["id"]
    body = await _partial(client, "meeting-availability", {"mission": mission, "cluster": "beta", "sessions": []},
                          {"mission": world.mission, "cluster": beta, "sessions": ["day-1"]})
    assert _errors(body) == [(2, None, "names the same participant as line 1")]
    session = _session(mission, "day-3", "09:00", "10:00")
    body = await _partial(client, "meeting-sessions", session, session | {"mission": world.mission, "name": "day-4"})
    assert _errors(body) == [(2, None, "names the same session as line 1")]
    body = await _partial(client, "meeting-requests", {"mission": mission, "from": "beta", "to": "gamma"},
                          {"mission": mission, "from": beta, "to": "gamma"})
    assert _errors(body) == [(2, None, "names the same meeting request as line 1")]


async def test_a_session_rejected_for_a_clash_brings_back_the_one_it_replaced(client, mission):
    body = await _partial(
        client, "meeting-sessions",
        _session(mission, "early", "", "") | {"starts_at": "2030-06-11T08:00", "ends_at": "2030-06-11T09:15"},
        # Would replace day-1 (09:00 to 10:30 on the 11th) but overlaps line 1...
        _session(mission, "day-1", "", "") | {"starts_at": "2030-06-11T09:00", "ends_at": "2030-06-11T09:30"},
    )
    # ...so day-1 stays as stored, and line 1 overlaps it.
    assert _errors(body) == [
        (1, "starts_at", "overlaps session 'day-1' (2030-06-11T09:00 to 2030-06-11T10:30)"),
        (2, "starts_at", "overlaps session 'early' (2030-06-11T08:00 to 2030-06-11T09:15)"),
    ]


async def test_a_pair_changes_sides_in_one_file(client, world, mission):
    await accepted(client, world, "beta", "gamma")
    body = await report(client, "meeting-requests", ndjson(
        {"mission": mission, "from": "gamma", "to": "beta", "status": "pending"},
        {"mission": mission, "from": "beta", "to": "gamma", "status": "withdrawn", "message": "Let's talk"},
    ))
    assert counts(body) == (1, 1, 0, 0)
    listed = (await client.get(world.path("/meeting-requests"), params={"status": "pending"})).json()["items"]
    assert [(r["from"]["slug"], r["to"]["slug"]) for r in listed] == [("gamma", "beta")]


async def test_hostile_rows_are_rejected_rows(client, mission):
    body = await _partial(
        client, "meeting-requests",
        {"mission": "bad\u0000key", "from": "beta", "to": "gamma"},
        {"mission": mission, "from": "beta'; DROP TABLE clusters; --", "to": "gamma"},
        {"mission": mission, "from": "beta", "to": "gamma", "status": "scheduled"},
        {"mission": mission, "from": "beta", "to": "gamma", "message": "x" * 20_001},
        {"mission": mission, "from": ["beta"], "to": "gamma", "id": "0"},
        {"mission": "m" * 201, "from": "beta", "to": "gamma"},
    )
    assert counts(body) == (0, 0, 0, 6)
    assert [line for line, _, _ in _errors(body)] == [1, 2, 3, 4, 5, 5, 6]
    body = await _partial(client, "meeting-sessions", _session(mission, "x", "09:00", "10:00")
                          | {"starts_at": "2030-06-13T09:00+02:00"}, _session(mission, "y", "09:00", "10:00", tables=0))
    assert counts(body) == (0, 0, 0, 2)


async def test_a_dry_run_counts_and_changes_nothing(client, world, mission):
    await ask(client, world, "beta", "gamma", "Hi")
    rows = {
        "meeting-sessions": [_session(mission, "day-3", "09:00", "10:00"),
                             _session(mission, "day-1", "", "") | {"starts_at": "2030-06-11T09:00",
                                                                   "ends_at": "2030-06-11T10:30"}],
        "meeting-availability": [{"mission": mission, "cluster": "beta", "sessions": ["day-1"]}],
        "meeting-requests": [{"mission": mission, "from": "beta", "to": "gamma", "message": "Hi", "status": "accepted"},
                             {"mission": mission, "from": "delta", "to": "gamma"}],
    }
    expected = {"meeting-sessions": (1, 0, 1, 0), "meeting-availability": (1, 0, 0, 0),
                "meeting-requests": (1, 1, 0, 0)}
    before = [(await client.get(f"/v1/export/{r}")).text for r in rows]
    for resource, file in rows.items():
        body = await report(client, resource, ndjson(*file), dry_run=True)
        assert counts(body) == expected[resource] and not body["committed"]
    assert [(await client.get(f"/v1/export/{r}")).text for r in rows] == before

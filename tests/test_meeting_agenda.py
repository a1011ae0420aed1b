"""A participant's agenda: JSON for its keys, iCalendar behind a secret, revocable token,
read back by icalendar and by the second parser (ical)."""

from datetime import datetime, timedelta

import pytest
from ical.calendar_stream import IcsCalendarStream
from icalendar import Calendar

from tests import meetings
from tests.conftest import make_client
from tests.meetings import accepted


@pytest.fixture
async def world(client, session):
    world = await meetings.build(client, session)
    await accepted(client, world, "beta", "gamma")
    await accepted(client, world, "beta", "delta")
    assert (await client.post(world.path("/schedule"))).status_code == 200
    return world


async def _token(app, world, who: str = "beta") -> dict:
    async with world.client(app, who) as client:
        response = await client.post(world.path("/participants/beta/agenda-token"))
    assert response.status_code == 201, response.text
    return response.json()


async def test_the_agenda_shows_published_meetings_only(app, client, world):
    async with world.client(app, "beta") as beta:
        assert (await beta.get(world.path("/participants/beta/agenda"))).json()["meetings"] == []
        await client.post(world.path("/schedule/publish"))
        agenda = (await beta.get(world.path("/participants/beta/agenda"))).json()
    assert agenda["timezone"] == "Europe/Berlin" and agenda["cluster"]["slug"] == "beta"
    assert sorted(c["slug"] for m in agenda["meetings"] for c in m["clusters"] if c["slug"] != "beta") == ["delta", "gamma"]


async def test_the_ics_agenda_reads_back_in_both_parsers(app, client, world):
    await client.post(world.path("/schedule/publish"))
    token = await _token(app, world)
    assert token["webcal"].startswith("webcal://") and token["url"].endswith(f"/v1/agendas/{token['token']}.ics")
    async with make_client(app) as anonymous:
        response = await anonymous.get(f"/v1/agendas/{token['token']}.ics")
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/calendar")
    listed = (await client.get(world.path("/meetings"), params={"cluster": "beta"})).json()["items"]
    uids = {f"{m['id']}@meetings.partnership-opportunity-api": m for m in listed}

    calendar = Calendar.from_ical(response.content)
    events = {str(e["uid"]): e for e in calendar.walk("VEVENT")}
    assert set(events) == set(uids)
    for uid, event in events.items():
        start = event.decoded("dtstart")
        assert start.replace(tzinfo=None) == datetime.fromisoformat(uids[uid]["starts_at"])
        assert event["dtstart"].params["TZID"] == "Europe/Berlin" and start.utcoffset() == timedelta(hours=2)
        assert str(event["summary"]) in ("Meeting with Gamma", "Meeting with Delta")
    assert [str(tz["tzid"]) for tz in calendar.walk("VTIMEZONE")] == ["Europe/Berlin"]

    second = IcsCalendarStream.calendar_from_ics(response.text)
    parsed = {e.uid: e for e in second.events}
    assert set(parsed) == set(uids)
    for event in parsed.values():
        assert event.dtstart.utcoffset() == timedelta(hours=2)
        assert event.end - event.start == timedelta(minutes=30)
        assert "Let's talk" in event.description


async def test_the_feed_answers_304_to_a_poll_that_has_it(app, client, world):
    token = (await _token(app, world))["token"]
    async with make_client(app) as anonymous:
        first = await anonymous.get(f"/v1/agendas/{token}.ics")
        again = await anonymous.get(f"/v1/agendas/{token}.ics", headers={"If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304


async def test_a_revoked_rotated_or_wrong_token_is_404(app, world):
    old = (await _token(app, world))["token"]
    new = (await _token(app, world))["token"]
    async with make_client(app) as anonymous:
        assert (await anonymous.get(f"/v1/agendas/{old}.ics")).status_code == 404
        assert (await anonymous.get(f"/v1/agendas/{new}.ics")).status_code == 200
        assert (await anonymous.get("/v1/agendas/wrong.ics")).status_code == 404
        async with world.client(app, "beta") as beta:
            assert (await beta.delete(world.path("/participants/beta/agenda-token"))).status_code == 204
            assert (await beta.delete(world.path("/participants/beta/agenda-token"))).status_code == 404
        assert (await anonymous.get(f"/v1/agendas/{new}.ics")).status_code == 404


async def test_the_feed_needs_no_key_where_reads_do(app, world, settings):
    token = (await _token(app, world))["token"]
    settings.access.reads_require_key = True
    async with make_client(app) as anonymous:
        assert (await anonymous.get(world.path("/meeting-setup"))).status_code == 401
        assert (await anonymous.get(f"/v1/agendas/{token}.ics")).status_code == 200


@pytest.mark.parametrize("who, status", [
    ("beta", 200), ("admin", 200), ("unbound", 200), ("read", 200), ("gamma", 404), ("alpha", 404), ("epsilon", 404),
    (None, 401),
])
async def test_who_reads_an_agenda(app, world, who, status):
    async with world.client(app, who) as caller:
        assert (await caller.get(world.path("/participants/beta/agenda"))).status_code == status


@pytest.mark.parametrize("who, status", [
    ("beta", 201), ("admin", 201), ("unbound", 201), ("read", 403), ("gamma", 404), ("alpha", 404), (None, 401),
])
async def test_who_makes_a_feed_token(app, world, who, status):
    async with world.client(app, who) as caller:
        assert (await caller.post(world.path("/participants/beta/agenda-token"))).status_code == status


@pytest.mark.parametrize("who, status", [("beta", 204), ("admin", 204), ("gamma", 404), ("alpha", 404), (None, 401)])
async def test_who_revokes_a_feed_token(app, world, who, status):
    await _token(app, world)
    async with world.client(app, who) as caller:
        assert (await caller.delete(world.path("/participants/beta/agenda-token"))).status_code == status

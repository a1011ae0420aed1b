"""iCalendar out: read back by icalendar and by a second, independent parser (ical)."""

from datetime import date, datetime, timedelta

from ical.calendar_stream import IcsCalendarStream
from icalendar import Calendar

from tests import factories

LONG_TEXT = (
    "Matchmaking for photonics SMEs; meetings with buyers, distributors, and research labs, "
    "Cooperación técnica — «coopération» — 日本語 — a line long enough to be folded many times over "
) * 3 + "\nSecond paragraph, with a comma; and a semicolon\\ and a backslash."


async def _feed(client, url="/v1/missions.ics", **params):
    response = await client.get(url, params=params)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/calendar")
    return response


async def test_feed_is_valid_rfc5545_for_both_parsers(client):
    all_day = await factories.create(client, "/v1/missions", factories.mission(
        title="EU–US matchmaking at Hannover Messe", destination_country="DE", destination_city="Hannover",
        starts_on="2030-04-25", ends_on="2030-04-26", application_deadline="2030-04-10", description=LONG_TEXT, sectors=["photonics", "aerospace"],
        organisers={"external": "European Cluster Collaboration Platform"}, url="https://example.org/hannover",
    ))
    timed = await factories.create(client, "/v1/missions", factories.mission(
        title="EU–Taiwan matchmaking", destination_country="TW", destination_city="Taipei",
        starts_on="2030-06-04", ends_on="2030-06-06", start_time="09:00", end_time="17:30", timezone="Asia/Taipei",
    ))
    body = (await _feed(client)).content
    text = body.decode()
    assert all(len(line.encode()) <= 75 for line in text.split("\r\n"))  # folded

    calendar = Calendar.from_ical(body)
    events = {str(e["uid"]): e for e in calendar.walk("VEVENT")}
    assert len(events) == 2
    for event in events.values():
        assert event.get("dtstamp") and event.get("uid")
        assert event.decoded("dtend") > event.decoded("dtstart")
    day = events[f"{all_day['id']}@missions.partnership-opportunity-api"]
    assert day.decoded("dtstart") == date(2030, 4, 25) and day.decoded("dtend") == date(2030, 4, 27)  # exclusive
    assert str(day["summary"]) == "EU–US matchmaking at Hannover Messe"
    assert str(day["location"]) == "Hannover, Germany"
    assert LONG_TEXT in str(day["description"])
    assert "Applications from 2030-03-01 until 2030-04-10 (deadline)." in str(day["description"])
    names = [(await client.get(f"/v1/sectors/{code}")).json()["name"] for code in ("photonics", "aerospace")]
    assert "," in names[0]  # a comma inside one category survives the comma-separated list
    assert [str(c) for c in day["categories"].cats] == names
    assert str(day["status"]) == "CONFIRMED" and int(day["sequence"]) == 0
    assert str(day["url"]) == "https://example.org/hannover"

    hour = events[f"{timed['id']}@missions.partnership-opportunity-api"]
    start = hour.decoded("dtstart")
    assert isinstance(start, datetime) and start.utcoffset() == timedelta(hours=8)
    assert hour["dtstart"].params["TZID"] == "Asia/Taipei"
    assert [str(tz["tzid"]) for tz in calendar.walk("VTIMEZONE")] == ["Asia/Taipei"]

    second = IcsCalendarStream.calendar_from_ics(text)
    parsed = {e.uid: e for e in second.events}
    assert set(parsed) == set(events)
    other = parsed[f"{all_day['id']}@missions.partnership-opportunity-api"]
    assert other.dtstart == date(2030, 4, 25) and other.dtend == date(2030, 4, 27)
    assert LONG_TEXT in other.description
    assert other.summary == "EU–US matchmaking at Hannover Messe"
    timed_other = parsed[f"{timed['id']}@missions.partnership-opportunity-api"]
    assert timed_other.dtstart.utcoffset() == timedelta(hours=8) and timed_other.end > timed_other.start
    assert all(e.dtstamp for e in second.events)


async def test_filters_deadlines_sequence_cancel_and_conditional_get(client):
    us = await factories.create(client, "/v1/missions", factories.mission(destination_country="US"))
    await factories.create(client, "/v1/missions", factories.mission(destination_country="BR"))
    first = await _feed(client, destination="US")
    events = Calendar.from_ical(first.content).walk("VEVENT")
    assert [str(e["uid"]).split("@")[0] for e in events] == [us["id"]]

    again = await client.get("/v1/missions.ics", params={"destination": "US"}, headers={"If-None-Match": first.headers["etag"]})
    assert again.status_code == 304

    with_deadlines = Calendar.from_ical((await _feed(client, destination="US", include="deadlines")).content)
    deadline = [e for e in with_deadlines.walk("VEVENT") if "deadline" in str(e["uid"])]
    assert len(deadline) == 1 and deadline[0].decoded("dtstart") == date(2030, 4, 30)
    assert deadline[0].decoded("dtend") == date(2030, 5, 1)

    await client.patch(f"/v1/missions/{us['id']}", json={"cancelled": True})
    changed = await client.get("/v1/missions.ics", params={"destination": "US"}, headers={"If-None-Match": first.headers["etag"]})
    assert changed.status_code == 200
    event = Calendar.from_ical(changed.content).walk("VEVENT")[0]
    assert str(event["status"]) == "CANCELLED" and int(event["sequence"]) == 1


async def test_one_mission_as_ics(client):
    mission = await factories.create(client, "/v1/missions", factories.mission())
    response = await _feed(client, f"/v1/missions/{mission['id']}.ics", include="deadlines")
    assert len(Calendar.from_ical(response.content).walk("VEVENT")) == 2
    missing = await client.get("/v1/missions/5f0c6a9e-1111-4c4c-8888-000000000000.ics")
    assert missing.status_code == 404
    assert (await client.get("/v1/missions.ics", params={"include": "everything"})).status_code == 422

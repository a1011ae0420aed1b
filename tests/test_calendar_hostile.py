"""Hostile calendars: dates past every range, nesting bombs, feeds claiming organisers, feeds
too expensive to read. Each is refused (the feed) or rejected (the event), nothing else is
stored, and nothing answers 500."""

import json

import pytest

from service.calendar.isolation import FeedReader
from service.calendar.parse import Defaults, FeedRejected
from tests import factories
from tests.feeds import FeedServer, Route, big_calendar, local_feed_settings
from tests.lists import collect
from tests.problems import assert_problem

ICS = {"Content-Type": "text/calendar"}
JSON = {"Content-Type": "application/json"}


@pytest.fixture
def settings():
    return local_feed_settings(max_feed_bytes=8 * 2**20, parse_timeout_seconds=1)


@pytest.fixture
def feeds():
    with FeedServer() as server:
        yield server


def calendar(*events: str) -> bytes:
    return "\r\n".join(["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//Test//Feed//EN", *events, "END:VCALENDAR", ""]).encode()


def event(uid: str, *dates: str, extra: tuple[str, ...] = ()) -> str:
    return "\r\n".join(["BEGIN:VEVENT", f"UID:{uid}", "DTSTAMP:20300101T000000Z", *dates, "SUMMARY:Mission",
                        "LOCATION:Kyiv, Ukraine", *extra, "END:VEVENT"])


BAD_DATES = {
    "year-9999-plus-duration": (("DTSTART;VALUE=DATE:99991230", "DURATION:P10D"), "between 1900-01-01 and 2199-12-31"),
    "dtend-at-the-end-of-time": (("DTSTART:20300101T100000Z", "DTEND:99991231T235959Z"), "between"),
    "timed-start-at-the-end-of-time": (("DTSTART;TZID=Pacific/Kiritimati:99991231T235959", "DURATION:PT1H"), "between"),
    "before-1900": (("DTSTART;VALUE=DATE:18000101", "DTEND;VALUE=DATE:18000102"), "between"),
    "duration-past-datetime": (("DTSTART:20300101T100000Z", "DURATION:P999999999D"), "between"),
    "date-start-datetime-end": (("DTSTART;VALUE=DATE:20300101", "DTEND:20300102T100000Z"), "both be dates or both be date-times"),
    "datetime-start-date-end": (("DTSTART:20300101T100000Z", "DTEND;VALUE=DATE:20300102"), "both be dates or both be date-times"),
}


async def test_events_with_dates_out_of_range_or_of_mixed_types_are_rejected_with_their_reason(client):
    body = calendar(*(event(uid, *dates) for uid, (dates, _) in BAD_DATES.items()), event("fine", "DTSTART;VALUE=DATE:20300101"))
    response = await client.post("/v1/missions/import", content=body, headers=ICS)
    assert response.status_code == 200, response.text
    report = response.json()
    reasons = {r["uid"]: r["reason"] for r in report["rejected"]}
    assert set(reasons) == set(BAD_DATES)
    for uid, (_, why) in BAD_DATES.items():
        assert why in reasons[uid], (uid, reasons[uid])
    assert report["created"] == 1
    assert [m["title"] for m in await collect(client, "/v1/missions", {})] == ["Mission"]


def _nested_json(depth: int) -> bytes:
    return b'{"events": [' + b"[" * depth + b"]" * depth + b"]}"


# Past the feed's own limit (32), a feed is refused by it; past every JSON body's (64), by that
# one before the feed is read.
@pytest.mark.parametrize(("depth", "refusal"), [(40, "nests deeper than 32 levels"), (100_000, "at most 64 levels deep")])
async def test_a_deeply_nested_json_feed_is_refused(client, depth, refusal):
    problem = assert_problem(await client.post("/v1/missions/import", content=_nested_json(depth), headers=JSON), 422)
    assert refusal in problem["detail"]
    assert await collect(client, "/v1/missions", {}) == []


async def test_a_deeply_nested_carried_property_is_ignored_not_a_server_error(client):
    deep = "[" * 100_000 + "]" * 100_000
    upload = calendar(event("deep-1", "DTSTART;VALUE=DATE:20300801", extra=(f"X-PARTNERSHIPS-MISSION:{deep}",)))
    response = await client.post("/v1/missions/import", content=upload, headers=ICS)
    assert response.status_code == 200, response.text
    assert [m["title"] for m in await collect(client, "/v1/missions", {})] == ["Mission"]


async def test_a_feed_cannot_make_a_cluster_or_partnership_an_organiser(client, feeds):
    victim = await factories.create(client, "/v1/clusters", factories.cluster(slug="victim"))
    partnership = await factories.create(client, "/v1/partnerships", factories.partnership(
        slug="victim-partnership", members=[{"cluster": "victim", "role": "coordinator"}]))
    claims = {"clusters": [victim["slug"]], "partnerships": [partnership["slug"]], "external": "Someone Else"}
    feed = {"events": [{"uid": "claim-1", "title": "Claimed mission", "starts_on": "2030-07-01",
                        "destination_country": "CA", "organisers": claims}]}
    feeds.routes["/claims.json"] = Route(json.dumps(feed).encode(), headers=JSON)
    source = await factories.create(client, "/v1/calendar-sources", {
        "url": feeds.url("/claims.json"), "format": "json", "organiser": "EU Gateway | Business Avenues"})
    report = (await client.post(f"/v1/calendar-sources/{source['id']}/sync")).json()
    assert report["created"] == 1 and report["rejected"] == []
    # An iCalendar event carrying organisers (and a bulk key) in our private property, uploaded.
    carried = json.dumps({"organisers": claims, "external_id": "bulk-key-1", "external_organiser": "Label only"})
    upload = calendar(event("claim-2", "DTSTART;VALUE=DATE:20300801", extra=(f"X-PARTNERSHIPS-MISSION:{carried}",)))
    assert (await client.post("/v1/missions/import", content=upload, headers=ICS)).json()["created"] == 1
    # And a JSON upload without a source.
    feed["events"][0] |= {"uid": "claim-3", "title": "Claimed upload"}
    assert (await client.post("/v1/missions/import", content=json.dumps(feed), headers=JSON)).json()["created"] == 1

    missions = {m["title"]: m for m in await collect(client, "/v1/missions", {})}
    assert missions["Claimed mission"]["organisers"] == {
        "clusters": [], "partnerships": [], "external": "EU Gateway | Business Avenues"}
    assert missions["Mission"]["organisers"] == {"clusters": [], "partnerships": [], "external": "Label only"}
    assert missions["Mission"]["external_id"] is None
    assert missions["Claimed upload"]["organisers"] == {"clusters": [], "partnerships": [], "external": "Someone Else"}
    assert await collect(client, "/v1/missions", {"organiser": "victim"}) == []


async def test_a_feed_that_takes_too_long_to_read_is_rejected_and_changes_nothing(client, feeds):
    feeds.routes["/big.ics"] = Route(big_calendar(), headers=ICS)
    source = await factories.create(client, "/v1/calendar-sources", {"url": feeds.url("/big.ics"), "default_country": "UA"})
    problem = assert_problem(await client.post(f"/v1/calendar-sources/{source['id']}/sync"), 422)
    assert "needed more than 1 s of CPU" in problem["detail"]
    assert await collect(client, "/v1/missions", {}) == []
    assert (await client.get(f"/v1/calendar-sources/{source['id']}")).json()["last_synced_at"] is None
    # The next feed gets a fresh worker.
    feeds.routes["/small.ics"] = Route(calendar(event("after", "DTSTART;VALUE=DATE:20300101")), headers=ICS)
    small = await factories.create(client, "/v1/calendar-sources", {"url": feeds.url("/small.ics")})
    assert (await client.post(f"/v1/calendar-sources/{small['id']}/sync")).json()["created"] == 1


async def test_a_feed_that_needs_too_much_memory_to_read_is_rejected():
    feed = big_calendar()
    # (Where memory runs out decides the reason: the parser may report it as unreadable.)
    with pytest.raises(FeedRejected):
        await FeedReader(timeout_seconds=30, memory_bytes=100 * 2**20).read(feed, "ics", Defaults())
    assert len(await FeedReader(timeout_seconds=30, memory_bytes=512 * 2**20).read(feed, "ics", Defaults())) == 9_999

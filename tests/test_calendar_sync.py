"""Calendars in: sources, sync, uploads; unchanged feeds write nothing; hostile feeds change nothing."""

import ipaddress
import json

import pytest
from icalendar import Calendar

from service.calendar.fetch import FeedRejected, fetch
from service.calendar.service import fetch_policy
from service.config import CalendarSettings
from service.kit.outbound import allowed, destination
from tests import factories
from tests.feeds import FeedServer, Route, local_feed_settings
from tests.lists import collect
from tests.problems import assert_problem

ICS = {"Content-Type": "text/calendar"}


@pytest.fixture
def settings():
    return local_feed_settings(fetch_timeout_seconds=1.5, max_feed_bytes=300_000)


@pytest.fixture
def feeds():
    with FeedServer() as server:
        yield server


def event(uid: str, summary: str, start: str, end: str, *, sequence: int = 0, location: str = "Kyiv, Ukraine",
          status: str | None = None, extra: str = "") -> str:
    lines = [
        "BEGIN:VEVENT", f"UID:{uid}", "DTSTAMP:20300101T000000Z", f"DTSTART;VALUE=DATE:{start}",
        f"DTEND;VALUE=DATE:{end}", f"SUMMARY:{summary}", f"LOCATION:{location}", f"SEQUENCE:{sequence}",
    ]
    if status:
        lines.append(f"STATUS:{status}")
    if extra:
        lines.append(extra)
    return "\r\n".join([*lines, "END:VEVENT"])


def calendar(*events: str) -> bytes:
    return "\r\n".join(["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//Test//Feed//EN", *events, "END:VCALENDAR", ""]).encode()


async def _source(client, url: str, **fields) -> dict:
    body = {"url": url, "organiser": "EU Gateway | Business Avenues", "default_kind": "business-mission",
            "default_sectors": ["photonics"]} | fields
    return await factories.create(client, "/v1/calendar-sources", body)


async def _sync(client, source: dict) -> dict:
    response = await client.post(f"/v1/calendar-sources/{source['id']}/sync")
    assert response.status_code == 200, response.text
    return response.json()


def _counts(report: dict) -> tuple:
    return report["created"], report["updated"], report["cancelled"], report["unchanged"], len(report["rejected"])


async def _taken_from(client, source: dict) -> dict[str, dict]:
    missions = await collect(client, "/v1/missions", {"limit": 200})
    return {m["calendar"]["uid"]: m for m in missions if m["calendar"] and m["calendar"]["source_id"] == source["id"]}


async def test_sync_creates_then_changes_nothing_then_updates_and_cancels(client, feeds):
    feeds.routes["/feed.ics"] = Route(calendar(
        event("ua-1", "Mission to Ukraine", "20300918", "20300921"),
        event("tw-1", "EU–Taiwan matchmaking", "20300604", "20300607", location="Taipei, Taiwan"),
        event("bad-1", "No country anywhere", "20300101", "20300102", location="Somewhere"),
    ), headers=ICS)
    source = await _source(client, feeds.url("/feed.ics"))

    first = await _sync(client, source)
    assert _counts(first) == (2, 0, 0, 0, 1)
    assert first["rejected"][0]["uid"] == "bad-1" and "destination_country" in first["rejected"][0]["reason"]
    missions = await _taken_from(client, source)
    ukraine = missions["ua-1"]
    assert (ukraine["destination_country"], ukraine["destination_city"]) == ("UA", "Kyiv")
    assert (ukraine["starts_on"], ukraine["ends_on"]) == ("2030-09-18", "2030-09-20")
    assert ukraine["organisers"]["external"] == "EU Gateway | Business Avenues"
    assert ukraine["sectors"] == ["photonics"] and ukraine["kind"] == "business-mission"

    second = await _sync(client, source)
    assert _counts(second) == (0, 0, 0, 2, 1)
    assert (await _taken_from(client, source))["ua-1"]["sequence"] == ukraine["sequence"]

    # The Ukraine mission moves (SEQUENCE 1); the Taiwan one disappears from the feed.
    feeds.routes["/feed.ics"] = Route(calendar(
        event("ua-1", "Mission to Ukraine", "20300925", "20300928", sequence=1),
    ), headers=ICS)
    third = await _sync(client, source)
    assert _counts(third) == (0, 1, 1, 0, 0)
    missions = await _taken_from(client, source)
    assert missions["ua-1"]["starts_on"] == "2030-09-25" and missions["ua-1"]["sequence"] == ukraine["sequence"] + 1
    assert missions["tw-1"]["status"] == "cancelled"  # cancelled, never deleted

    # An older SEQUENCE is stale and ignored; STATUS:CANCELLED cancels.
    feeds.routes["/feed.ics"] = Route(calendar(event("ua-1", "Old version", "20300918", "20300921", sequence=0)), headers=ICS)
    assert _counts(await _sync(client, source)) == (0, 0, 0, 1, 0)
    feeds.routes["/feed.ics"] = Route(calendar(
        event("ua-1", "Mission to Ukraine", "20300925", "20300928", sequence=2, status="CANCELLED"),
    ), headers=ICS)
    assert _counts(await _sync(client, source)) == (0, 0, 1, 0, 0)
    stored = (await client.get(f"/v1/calendar-sources/{source['id']}")).json()
    assert stored["last_report"]["cancelled"] == 1 and stored["last_synced_at"]


async def test_conditional_get_with_the_stored_etag(client, feeds):
    feeds.routes["/etag.ics"] = Route(calendar(event("x-1", "Mission", "20300101", "20300102")), headers=ICS | {"ETag": '"v1"'})
    source = await _source(client, feeds.url("/etag.ics"))
    assert _counts(await _sync(client, source)) == (1, 0, 0, 0, 0)
    report = await _sync(client, source)
    assert report["not_modified"] is True and _counts(report) == (0, 0, 0, 0, 0)
    assert feeds.requests[-1][1].get("If-None-Match") == '"v1"'
    assert len(await _taken_from(client, source)) == 1


async def test_round_trip_export_then_import_gives_the_same_missions(client, feeds):
    cluster = await factories.create(client, "/v1/clusters", factories.cluster())
    originals = [
        await factories.create(client, "/v1/missions", factories.mission(
            destination_country="BR", destination_city="São Paulo", kind="matchmaking-event", cost_reimbursement_percent=80,
            description="Low-carbon; energy, water\nand waste", organisers={"clusters": [cluster["slug"]], "external": "ECCP"},
            outcomes={"bilateral_meetings": 140},
        )),
        await factories.create(client, "/v1/missions", factories.mission(
            destination_country="TW", starts_on="2030-06-04", ends_on="2030-06-06", start_time="09:00", end_time="17:30",
            timezone="Asia/Taipei", application_deadline="2030-05-01", sectors=["photonics", "aerospace"],
        )),
        await factories.create(client, "/v1/missions", factories.mission(cancelled=True, direction="inbound", kind="inbound-mission")),
    ]
    feeds.routes["/export.ics"] = Route((await client.get("/v1/missions.ics", params={"include": "deadlines"})).content, headers=ICS)
    source = await _source(client, feeds.url("/export.ics"), organiser=None, default_sectors=[])
    assert _counts(await _sync(client, source)) == (3, 0, 0, 0, 0)

    copies = {m["title"] + m["destination_country"]: m for m in (await _taken_from(client, source)).values()}
    compared = [
        "title", "kind", "direction", "destination_country", "destination_city", "starts_on", "ends_on", "start_time",
        "end_time", "timezone", "applications_open_on", "application_deadline", "sectors", "capacity",
        "cost_reimbursement_percent", "url", "description", "cancelled", "status", "outcomes",
    ]
    for original in originals:
        copy = copies[original["title"] + original["destination_country"]]
        assert {k: copy[k] for k in compared} == {k: original[k] for k in compared}
        assert copy["organisers"]["external"] == original["organisers"]["external"]


async def test_upload_of_an_ics_body_and_of_a_json_feed(client):
    body = calendar(event("up-1", "Uploaded mission", "20300301", "20300303", location="New York, USA"))
    response = await client.post("/v1/missions/import", content=body, headers={"Content-Type": "text/calendar"})
    assert response.status_code == 200, response.text
    assert _counts(response.json()) == (1, 0, 0, 0, 0)
    again = await client.post("/v1/missions/import", content=body, headers={"Content-Type": "text/calendar"})
    assert _counts(again.json()) == (0, 0, 0, 1, 0)

    feed = {"events": [
        {"uid": "j-1", "title": "JSON mission", "starts_on": "2030-07-01", "destination_country": "CA", "sequence": 3},
        {"uid": "j-2", "title": "Broken", "starts_on": "2030-07-01", "ends_on": "2030-06-01", "destination_country": "CA"},
        {"title": "no uid"},
    ]}
    response = await client.post("/v1/missions/import", content=json.dumps(feed), headers={"Content-Type": "application/json"})
    report = response.json()
    assert _counts(report) == (1, 0, 0, 0, 2)
    assert {r["uid"] for r in report["rejected"]} == {"j-2", None}
    uploaded = {m["title"]: m for m in await collect(client, "/v1/missions", {"q": "mission"})}
    assert uploaded["Uploaded mission"]["destination_country"] == "US"
    assert uploaded["JSON mission"]["kind"] == "business-mission"
    assert_problem(await client.post("/v1/missions/import", content=b"hello", headers={"Content-Type": "text/plain"}), 415)


HOSTILE = {
    "malformed": (Route(b"this is not a calendar", headers=ICS), "/bad.ics"),
    "not-vcalendar": (Route(b"BEGIN:VEVENT\r\nUID:x\r\nEND:VEVENT\r\n", headers=ICS), "/event-only.ics"),
    "huge": (Route(calendar(*[event(f"u{i}", "x" * 200, "20300101", "20300102") for i in range(2000)]), headers=ICS), "/huge.ics"),
    "huge-chunked": (Route(calendar(*[event(f"c{i}", "x" * 200, "20300101", "20300102") for i in range(2000)]), headers=ICS, chunked=True), "/huge-chunked.ics"),
    "slow": (Route(calendar(event("s-1", "Slow", "20300101", "20300102")), headers=ICS, delay=3), "/slow.ics"),
    "redirect-to-loopback": (Route(status=302, headers={"Location": "http://127.0.0.2:9/feed.ics"}), "/redirect.ics"),
    "redirect-to-private": (Route(status=302, headers={"Location": "http://10.1.2.3/feed.ics"}), "/redirect2.ics"),
    "server-error": (Route(b"oops", status=500), "/error.ics"),
}


@pytest.mark.parametrize("case", sorted(HOSTILE))
async def test_hostile_feeds_are_rejected_and_change_nothing(client, feeds, case):
    route, path = HOSTILE[case]
    feeds.routes[path] = route
    source = await _source(client, feeds.url(path))
    before = await collect(client, "/v1/missions", {"limit": 200})
    problem = assert_problem(await client.post(f"/v1/calendar-sources/{source['id']}/sync"), 422)
    assert problem["detail"].startswith("The feed was rejected")
    assert await collect(client, "/v1/missions", {"limit": 200}) == before
    assert (await client.get(f"/v1/calendar-sources/{source['id']}")).json()["last_synced_at"] is None


# Every way of writing an address that leads to this host or a private network.
REFUSED_ADDRESSES = [
    "127.0.0.1", "127.0.0.2", "0.0.0.0", "10.0.0.7", "172.16.0.1", "192.168.1.1", "169.254.169.254", "100.64.0.1",
    "224.0.0.1", "255.255.255.255", "::1", "::", "fe80::1", "fc00::1", "fd12:3456::1", "ff02::1",
    "fec0::1",  # deprecated site-local
    "::ffff:127.0.0.1", "::ffff:10.0.0.1",  # IPv4-mapped
    "::127.0.0.1", "::10.0.0.1",  # IPv4-compatible
    "64:ff9b::7f00:1", "64:ff9b::a00:1",  # NAT64
    "64:ff9b:1::7f00:1",  # local-use NAT64
    "2002:7f00:1::", "2002:a00:1::1",  # 6to4
    "2001:0:4136:e378:8000:63bf:80ff:fffe",  # Teredo, client 127.0.0.1
]


@pytest.mark.parametrize("target", ["[::ffff:127.0.0.2]:9", "[64:ff9b::a01:203]", "[2002:7f00:2::]", "[::127.0.0.2]"])
async def test_a_redirect_to_an_address_leading_inward_is_refused(client, feeds, target):
    feeds.routes["/moved.ics"] = Route(status=302, headers={"Location": f"http://{target}/feed.ics"})
    source = await _source(client, feeds.url("/moved.ics"))
    problem = assert_problem(await client.post(f"/v1/calendar-sources/{source['id']}/sync"), 422)
    assert "non-public address" in problem["detail"]


@pytest.mark.parametrize("address", REFUSED_ADDRESSES)
def test_every_form_of_a_private_address_is_refused(address):
    policy = fetch_policy(CalendarSettings())
    assert not allowed(ipaddress.ip_address(address), policy.allowed_networks)
    # The allow-list names where an address leads: allowing 127.0.0.0/8 allows ::ffff:127.0.0.1.
    if destination(ipaddress.ip_address(address)) in ipaddress.ip_network("127.0.0.0/8"):
        assert allowed(ipaddress.ip_address(address), fetch_policy(CalendarSettings(allow_networks=["127.0.0.0/8"])).allowed_networks)


@pytest.mark.parametrize("address", ["8.8.8.8", "2001:4860:4860::8888", "::ffff:8.8.8.8", "64:ff9b::808:808", "2002:808:808::1"])
def test_global_addresses_are_allowed(address):
    assert allowed(ipaddress.ip_address(address), fetch_policy(CalendarSettings()).allowed_networks)


@pytest.mark.parametrize(
    ("url", "why"),
    [
        ("http://10.0.0.7/feed.ics", "non-public"),
        ("http://192.168.1.1/feed.ics", "non-public"),
        ("http://169.254.169.254/latest/meta-data", "non-public"),
        ("http://[::1]:8080/feed.ics", "non-public"),
        ("http://127.0.0.2:1/feed.ics", "non-public"),
        ("http://[::ffff:127.0.0.2]:8080/feed.ics", "non-public"),
        ("http://[::127.0.0.2]/feed.ics", "non-public"),
        ("http://[64:ff9b::7f00:2]/feed.ics", "non-public"),
        ("http://[2002:7f00:2::]/feed.ics", "non-public"),
        ("http://[fec0::1]/feed.ics", "non-public"),
        ("http://2130706434/feed.ics", "non-public"),  # 127.0.0.2 as one number
        ("http://localhost.invalid/feed.ics", "resolve"),
    ],
)
async def test_a_source_whose_url_leads_inward_cannot_be_registered(client, url, why):
    """(These tests allow 127.0.0.1 only, for their feed server.)"""
    problem = assert_problem(await client.post("/v1/calendar-sources", json={"url": url}), 422, "body.url")
    assert why in problem["errors"][0]["message"]
    assert await collect(client, "/v1/calendar-sources", {}) == []


async def test_a_source_cannot_be_changed_to_a_url_leading_inward(client, feeds):
    source = await _source(client, feeds.url("/feed.ics"))
    assert_problem(await client.patch(f"/v1/calendar-sources/{source['id']}", json={"url": "http://[::ffff:10.0.0.1]/f.ics"}), 422, "body.url")
    assert (await client.get(f"/v1/calendar-sources/{source['id']}")).json()["url"] == source["url"]


async def test_a_source_at_a_global_address_can_be_registered(client):
    # Not fetched here: registering only checks the URL, which resolves without any network.
    await factories.create(client, "/v1/calendar-sources", {"url": "http://[2001:4860:4860::8888]/feed.ics"})


async def test_only_http_urls_can_be_registered(client):
    bad = ("file:///etc/passwd", "ftp://example.org/feed.ics", "gopher://x",
           "http://a:99999/feed.ics", "http://\U000f343aep\x16/feed.ics", "http://a\x16b.org/")
    for url in bad:
        assert_problem(await client.post("/v1/calendar-sources", json={"url": url}), 422, "body.url")


@pytest.mark.parametrize(("url", "why"), [
    ("http://a:99999/f.ics", "port"), ("http://\U000f343aep/f.ics", "host name"),
    ("http://127.0.0.1:1/f.ics", "non-public"), ("http://[::ffff:127.0.0.1]:1/f.ics", "non-public"),
])
async def test_a_stored_url_that_cannot_be_fetched_is_rejected_not_500(url, why):
    """Rows stored before URLs were checked this closely (or before the allow-list changed)
    are checked again at each fetch."""
    with pytest.raises(FeedRejected, match=why):
        await fetch(url, fetch_policy(CalendarSettings()))


async def test_our_own_deadline_events_are_not_missions(client):
    mission = await factories.create(client, "/v1/missions", factories.mission())
    exported = (await client.get(f"/v1/missions/{mission['id']}.ics", params={"include": "deadlines"})).content
    assert len(Calendar.from_ical(exported).walk("VEVENT")) == 2
    report = (await client.post("/v1/missions/import", content=exported, headers={"Content-Type": "text/calendar"})).json()
    assert _counts(report) == (1, 0, 0, 0, 0)

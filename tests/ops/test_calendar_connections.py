"""A calendar sync holds no database connection while the remote feed answers or is read."""

import asyncio

from service.config import CalendarSettings, DatabaseSettings
from tests.feeds import FeedServer, Route
from tests.ops.conftest import admin_key_in, live_client, live_settings

FEED = (b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Test//Slow//EN\r\nBEGIN:VEVENT\r\nUID:slow-1\r\n"
        b"DTSTAMP:20300101T000000Z\r\nDTSTART;VALUE=DATE:20300101\r\nSUMMARY:Slow\r\nLOCATION:Kyiv, Ukraine\r\n"
        b"END:VEVENT\r\nEND:VCALENDAR\r\n")


async def test_a_slow_feed_does_not_hold_the_only_connection(live_database):
    # One connection in the pool, and a short wait for it: a request that cannot get it answers 503.
    db = DatabaseSettings(pool_size=1, max_overflow=0, pool_timeout=0.5)
    calendar = CalendarSettings(allow_networks=["127.0.0.1/32"], fetch_timeout_seconds=10)
    key = await admin_key_in(live_database)
    with FeedServer() as feeds:
        feeds.routes["/slow.ics"] = Route(FEED, headers={"Content-Type": "text/calendar"}, delay=2)
        async with live_client(live_settings(live_database, db=db, calendar=calendar), key=key) as client:
            source = (await client.post("/v1/calendar-sources", json={"url": feeds.url("/slow.ics")})).json()
            sync = asyncio.create_task(client.post(f"/v1/calendar-sources/{source['id']}/sync"))
            await asyncio.sleep(0.7)  # the sync now waits on the feed
            assert not sync.done()
            for _ in range(3):
                assert (await client.get("/v1/clusters")).status_code == 200
            response = await sync
            assert response.status_code == 200, response.text
            assert response.json()["created"] == 1

"""Calendar sources synced by a real worker: the periodic `calendar:sync_due` queues the
sources whose interval has passed, and only those."""

import asyncio
import json
import time
from datetime import timedelta

import asyncpg

from service.config import CalendarSettings
from tests.conftest import _asyncpg_dsn
from tests.feeds import FeedServer, Route
from tests.ops.conftest import WorkerProcess, admin_key_in, live_client, live_settings, url_text
from tests.test_calendar_sync import ICS, calendar, event


async def test_a_due_source_is_synced_by_the_periodic_task_and_a_fresh_one_is_not(live_database, tmp_path):
    key = await admin_key_in(live_database)
    settings = live_settings(live_database, calendar=CalendarSettings(allow_networks=["127.0.0.1/32"]))
    env = {"DATABASE_URL": url_text(live_database), "CALENDAR__ALLOW_NETWORKS": json.dumps(["127.0.0.1/32"])}
    connection = await asyncpg.connect(**_asyncpg_dsn(live_database))
    with FeedServer() as feeds:
        feed = calendar(event("periodic-1", "Periodic mission", "20300301", "20300305"))
        feeds.routes = {"/due.ics": Route(feed, headers=ICS), "/fresh.ics": Route(feed, headers=ICS)}
        async with live_client(settings, key=key) as client:
            ids = {}
            for name in ("due", "fresh"):
                body = {"url": feeds.url(f"/{name}.ics"), "default_sectors": ["photonics"], "sync_interval": "PT1H"}
                response = await client.post("/v1/calendar-sources", json=body)
                assert response.status_code == 201, response.text
                ids[name] = response.json()["id"]
        synced_at = "UPDATE calendar_sources SET last_synced_at = now() - $2::interval WHERE id = $1::uuid"
        await connection.execute(synced_at, ids["due"], timedelta(hours=1, minutes=1))
        await connection.execute(synced_at, ids["fresh"], timedelta(minutes=59))
        # The minute's tick, as the periodic deferrer queues it (it may queue one itself too).
        await connection.execute(
            "INSERT INTO procrastinate_jobs (queue_name, task_name, args) VALUES ('default', 'calendar:sync_due', $1)",
            json.dumps({"timestamp": int(time.time())}),
        )
        worker = WorkerProcess(env, tmp_path / "worker.log")
        try:
            await worker.wait_ready()
            await worker.wait_logged(f"calendar source {ids['due']} synced")
            while await connection.fetchval(
                "SELECT count(*) FROM procrastinate_jobs WHERE task_name LIKE 'calendar:%' AND status IN ('todo', 'doing')"
            ):
                await asyncio.sleep(0.05)
        finally:
            worker.stop()
        reports = dict(await connection.fetch(
            "SELECT id::text, last_report->>'created' FROM calendar_sources WHERE id = ANY($1::uuid[])", list(ids.values())
        ))
        await connection.close()
    assert [path for path, _ in feeds.requests] == ["/due.ics"]
    assert reports == {ids["due"]: "1", ids["fresh"]: None}

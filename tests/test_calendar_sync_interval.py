"""Calendar sources synced on their own: `sync_interval` and the due-check that queues syncs."""

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import text

from service.calendar.service import queue_due_syncs
from tests import factories
from tests.feeds import local_feed_settings
from tests.problems import assert_problem

NOW = datetime(2030, 1, 15, 12, 0, tzinfo=UTC)


@pytest.fixture
def settings():
    return local_feed_settings()


async def _source(client, n: int, **fields) -> dict:
    body = {"url": f"http://127.0.0.1:9/feed-{n}.ics", "default_sectors": ["photonics"]} | fields
    return await factories.create(client, "/v1/calendar-sources", body)


async def _synced(session, source: dict, at: datetime | None) -> None:
    await session.execute(text("UPDATE calendar_sources SET last_synced_at = :at WHERE id = :id"), {"at": at, "id": source["id"]})


async def _queued(session) -> list[tuple[str, str, str]]:
    rows = await session.execute(text(
        "SELECT args->>'source_id', lock, queueing_lock FROM procrastinate_jobs WHERE task_name = 'calendar:sync' ORDER BY id"
    ))
    return [tuple(r) for r in rows]


async def test_the_interval_is_an_iso_duration_shown_and_changeable(client):
    source = await _source(client, 1, sync_interval="PT6H")
    assert source["sync_interval"] == "PT6H"
    assert (await client.get(f"/v1/calendar-sources/{source['id']}")).json()["sync_interval"] == "PT6H"
    patched = await client.patch(f"/v1/calendar-sources/{source['id']}", json={"sync_interval": "P1DT12H"})
    assert patched.status_code == 200 and patched.json()["sync_interval"] == "P1DT12H"
    cleared = await client.patch(f"/v1/calendar-sources/{source['id']}", json={"sync_interval": None})
    assert cleared.status_code == 200 and cleared.json()["sync_interval"] is None
    assert (await _source(client, 2))["sync_interval"] is None
    assert (await _source(client, 3, sync_interval="PT5M"))["sync_interval"] == "PT5M"
    assert (await _source(client, 4, sync_interval="P7D"))["sync_interval"] == "P7D"


@pytest.mark.parametrize("interval", ["PT4M59S", "P7DT1S", "P1M", "PT0S", "-PT6H", "6 hours", "P99999999999D", 3600, True, [], {}])
async def test_intervals_out_of_bounds_or_not_durations_are_refused(client, interval):
    response = await client.post("/v1/calendar-sources", json={"url": "http://127.0.0.1:9/x.ics", "sync_interval": interval})
    assert_problem(response, 422, "body.sync_interval")


async def test_due_sources_are_queued_once_each(client, session):
    due = await _source(client, 1, sync_interval="PT1H")
    never_synced = await _source(client, 2, sync_interval="P7D")
    not_due = await _source(client, 3, sync_interval="PT6H")
    manual = await _source(client, 4)
    await _synced(session, due, NOW - timedelta(hours=1))
    await _synced(session, not_due, NOW - timedelta(hours=5, minutes=59))
    await _synced(session, manual, NOW - timedelta(days=300))

    queued = await queue_due_syncs(session, NOW)
    assert sorted(map(str, queued)) == sorted([due["id"], never_synced["id"]])
    locks = {source["id"]: f"calendar:{source['id']}" for source in (due, never_synced)}
    assert sorted(await _queued(session)) == sorted((id, lock, lock) for id, lock in locks.items())

    # A sync already waiting is not queued twice; later, the other source is due as well.
    assert await queue_due_syncs(session, NOW + timedelta(seconds=30)) == []
    assert [str(s) for s in await queue_due_syncs(session, NOW + timedelta(hours=1))] == [not_due["id"]]
    assert len(await _queued(session)) == 3

"""The change-feed events of meeting requests and meetings: one per change, written with the
change, saying nothing private, in few statements however many meetings, and delivered to
the webhooks that subscribe to them."""

import uuid

import pytest
from sqlalchemy import event, select, text

from service.config import Settings, WebhookSettings
from service.events import repository as events_repository
from service.models import Event, WebhookDelivery
from service.webhooks.deliveries import fan_out
from tests import meetings
from tests.meetings import accepted, answer, ask

MEETING_TYPES = ["meeting.scheduled", "meeting.published", "meeting.held", "meeting.no_show", "meeting.cancelled"]
REQUEST_TYPES = ["meeting_request.created", "meeting_request.accepted", "meeting_request.declined",
                 "meeting_request.withdrawn"]


@pytest.fixture
async def world(client, session):
    return await meetings.build(client, session)


async def _events(session, prefix: str) -> list:
    return list((await session.execute(text(
        "SELECT type, resource_id, resource_version, data FROM events WHERE type LIKE :prefix ORDER BY id"
    ), {"prefix": f"{prefix}.%"})).all())


async def _post(client, path: str, **body) -> dict:
    response = await client.post(path, json=body or None)
    assert response.status_code == 200, response.text
    return response.json()


async def test_each_answer_to_a_request_is_one_event_without_the_message(client, session, world):
    taken = await ask(client, world, "beta", "gamma", message="Our secret plan")
    refused = await ask(client, world, "beta", "delta")
    withdrawn = await ask(client, world, "gamma", "delta")
    await answer(client, world, taken["id"], "accepted")
    await answer(client, world, refused["id"], "declined")
    await answer(client, world, withdrawn["id"], "withdrawn")
    assert (await client.patch(world.path(f"/meeting-requests/{taken['id']}"), json={"status": "declined"})).status_code == 409
    rows = await _events(session, "meeting_request")
    assert [(r.type, str(r.resource_id)) for r in rows] == [
        ("meeting_request.created", taken["id"]), ("meeting_request.created", refused["id"]),
        ("meeting_request.created", withdrawn["id"]), ("meeting_request.accepted", taken["id"]),
        ("meeting_request.declined", refused["id"]), ("meeting_request.withdrawn", withdrawn["id"]),
    ]
    for row in rows:
        assert set(row.data) == {"id", "mission_id", "status"} and row.data["mission_id"] == world.mission
        assert "secret" not in str(row.data)
    assert [r.resource_version for r in rows] == [1, 1, 1, 2, 2, 2]


async def test_each_meeting_change_is_one_event_without_who_or_when(client, session, world):
    requests = {(await accepted(client, world, *pair))["id"] for pair in (("beta", "gamma"), ("beta", "delta"))}
    scheduled = (await _post(client, world.path("/schedule")))["meetings"]
    assert [r.type for r in await _events(session, "meeting")] == ["meeting.scheduled"] * 2
    # A re-run replaces the unpublished meetings: the old ones are cancelled, the new scheduled.
    again = (await _post(client, world.path("/schedule")))["meetings"]
    await _post(client, world.path("/schedule/publish"))
    held = again[0]["id"]
    for status in ("held", "held", "no-show"):  # marking it held twice changes nothing the second time
        assert (await client.patch(world.path(f"/meetings/{held}"), json={"status": status})).status_code == 200
    rows = await _events(session, "meeting")
    assert [r.type for r in rows] == [
        "meeting.scheduled", "meeting.scheduled", "meeting.cancelled", "meeting.cancelled",
        "meeting.scheduled", "meeting.scheduled", "meeting.published", "meeting.published",
        "meeting.held", "meeting.no_show",
    ]
    assert {str(r.resource_id) for r in rows[2:4]} == {m["id"] for m in scheduled}
    assert {str(r.resource_id) for r in rows[4:8]} == {m["id"] for m in again}
    assert [(str(r.resource_id), r.data["status"], r.resource_version) for r in rows[8:]] == [
        (held, "held", 3), (held, "no-show", 4)]
    for row in rows:
        assert set(row.data) == {"id", "mission_id", "request_id", "status"} and row.data["mission_id"] == world.mission
    assert {r.data["request_id"] for r in rows} == requests


async def test_a_withdrawn_request_and_a_new_setup_cancel_their_meetings(client, session, world):
    published = await accepted(client, world, "beta", "gamma")
    await _post(client, world.path("/schedule"))
    await _post(client, world.path("/schedule/publish"))
    await answer(client, world, published["id"], "withdrawn")
    await accepted(client, world, "beta", "delta")
    await _post(client, world.path("/schedule"))
    assert (await client.put(world.path("/meeting-setup"), json=meetings.SETUP)).status_code == 200
    rows = await _events(session, "meeting")
    assert [(r.type, r.data["status"]) for r in rows] == [
        ("meeting.scheduled", "scheduled"), ("meeting.published", "published"), ("meeting.cancelled", "published"),
        ("meeting.scheduled", "scheduled"), ("meeting.cancelled", "scheduled"),
    ]
    assert (await client.get(world.path("/meetings"))).json()["items"] == []


async def test_a_schedule_writes_its_events_in_one_statement(client, session, connection, world):
    for pair in (("beta", "gamma"), ("beta", "delta"), ("gamma", "delta")):
        await accepted(client, world, *pair)
    inserts = []

    def count(conn, cursor, statement, parameters, context, executemany):
        if statement.lstrip().upper().startswith("INSERT INTO EVENTS"):
            inserts.append(statement)

    event.listen(connection.sync_connection, "before_cursor_execute", count)
    try:
        assert (await _post(client, world.path("/schedule")))["scheduled"] == 3
    finally:
        event.remove(connection.sync_connection, "before_cursor_execute", count)
    assert len(inserts) == 1
    assert len(await _events(session, "meeting")) == 3


async def test_many_events_are_written_in_one_statement(session, connection):
    statements = []

    def count(conn, cursor, statement, parameters, context, executemany):
        if statement.lstrip().upper().startswith("INSERT INTO EVENTS"):
            statements.append((statement, executemany))

    rows = [(uuid.uuid4(), i, {"id": "x", "n": i}) for i in range(5000)]
    event.listen(connection.sync_connection, "before_cursor_execute", count)
    try:
        await events_repository.add_many(session, "meeting.scheduled", rows)
    finally:
        event.remove(connection.sync_connection, "before_cursor_execute", count)
    assert len(statements) == 1 and not statements[0][1]
    written = (await session.execute(select(Event.resource_id, Event.resource_version, Event.data)
                                     .where(Event.type == "meeting.scheduled"))).all()
    assert sorted(map(tuple, written), key=lambda r: r[1]) == rows


@pytest.fixture
def settings():
    # Loopback stands for a receiver here, as in the webhook tests.
    return Settings(database_url="postgresql://unused/never-connected", webhooks=WebhookSettings(allow_networks=["127.0.0.0/8"]))


async def test_a_webhook_subscribed_to_meeting_events_receives_them(client, session, world):
    hook = await client.post("/v1/webhooks", json={"url": "http://127.0.0.1:9/hooks",
                                                   "event_types": MEETING_TYPES + REQUEST_TYPES})
    assert hook.status_code == 201, hook.text
    assert sorted(hook.json()["event_types"]) == sorted(MEETING_TYPES + REQUEST_TYPES)
    interests_only = await client.post("/v1/webhooks", json={"url": "http://127.0.0.1:9/other",
                                                             "event_types": ["interest.created"]})
    await accepted(client, world, "beta", "gamma")
    await _post(client, world.path("/schedule"))
    await _post(client, world.path("/schedule/publish"))
    written = list(await session.scalars(select(Event).where(Event.type.like("meeting%")).order_by(Event.id)))
    await fan_out(session, written)
    deliveries = list(await session.scalars(select(WebhookDelivery).order_by(WebhookDelivery.event_id)))
    assert [d.event_id for d in deliveries] == [e.id for e in written]
    assert {str(d.webhook_id) for d in deliveries} == {hook.json()["id"]} != {interests_only.json()["id"]}
    assert [e.type for e in written] == ["meeting_request.created", "meeting_request.accepted",
                                        "meeting.scheduled", "meeting.published"]
    feed = await client.get("/v1/events", params={"type": ["meeting.scheduled", "meeting_request.accepted"]})
    assert feed.status_code == 200

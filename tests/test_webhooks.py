"""Webhooks over HTTP: registering (the secret shown once), ownership, the address guard,
changes, and the delivery log."""

import json
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import insert, select, text

from service.config import Settings, WebhookSettings
from service.models import Event, Webhook, WebhookDelivery
from service.tasks.runtime import Resources
from service.webhooks.deliveries import fan_out, purge
from tests import factories
from tests.conftest import issue_key, make_client
from tests.problems import assert_problem

RECEIVER = "http://127.0.0.1:9/hooks"


@pytest.fixture
def settings():
    # Loopback stands for a receiver in these tests; every other private network stays refused.
    return Settings(database_url="postgresql://unused/never-connected", webhooks=WebhookSettings(allow_networks=["127.0.0.0/8"]))


async def _webhook(client, **fields) -> dict:
    response = await client.post("/v1/webhooks", json={"url": RECEIVER, **fields})
    assert response.status_code == 201, response.text
    return response.json()


async def test_the_secret_is_shown_once(client):
    response = await client.post(
        "/v1/webhooks", json={"url": RECEIVER, "event_types": ["mission.created"], "description": "CRM sync"}
    )
    assert response.status_code == 201
    assert response.headers["cache-control"] == "no-store"
    created = response.json()
    assert response.headers["location"] == f"/v1/webhooks/{created['id']}"
    assert created["secret"].startswith("whsec_") and len(created["secret"]) >= len("whsec_") + 32
    assert created["enabled"] and created["event_types"] == ["mission.created"]
    again = await client.get(response.headers["location"])
    assert again.status_code == 200 and "secret" not in again.json() and "etag" in again.headers
    listed = (await client.get("/v1/webhooks")).json()["items"]
    assert [w["id"] for w in listed] == [created["id"]] and "secret" not in listed[0]


async def test_a_retried_create_does_not_show_the_secret_again(client):
    headers = {"Idempotency-Key": "register-crm-hook"}
    first = await client.post("/v1/webhooks", json={"url": RECEIVER}, headers=headers)
    assert first.status_code == 201 and first.json()["secret"]
    retry = await client.post("/v1/webhooks", json={"url": RECEIVER}, headers=headers)
    problem = assert_problem(retry, 409)
    assert "whsec_" not in retry.text and retry.headers["location"] == first.headers["location"]
    assert "shown only once" in problem["detail"]
    assert len((await client.get("/v1/webhooks")).json()["items"]) == 1


async def test_a_rotated_secret_is_shown_once_and_replaces_the_old(app, client, session):
    hook = await _webhook(client)
    path = f"/v1/webhooks/{hook['id']}/rotate-secret"
    rotated = await client.post(path)
    assert rotated.status_code == 200 and rotated.headers["cache-control"] == "no-store"
    assert rotated.json()["secret"].startswith("whsec_") and rotated.json()["secret"] != hook["secret"]
    stored = await session.scalar(select(Webhook.secret).where(Webhook.id == uuid.UUID(hook["id"])))
    assert stored == rotated.json()["secret"] and "secret" not in (await client.get(f"/v1/webhooks/{hook['id']}")).json()
    async with make_client(app, await issue_key(session, "write")) as stranger:
        assert_problem(await stranger.post(path), 404)


async def test_every_webhook_gets_a_secret_of_its_own(client):
    assert (await _webhook(client))["secret"] != (await _webhook(client))["secret"]


@pytest.mark.parametrize("url", [
    "http://10.0.0.5/hook", "http://169.254.169.254/latest/meta-data", "http://[::ffff:192.168.1.1]/hook",
    "http://[fd00::1]/hook", "ftp://127.0.0.1/hook", "http://no-such-host.invalid/hook",
])
async def test_a_url_off_the_public_internet_is_refused(client, url):
    assert_problem(await client.post("/v1/webhooks", json={"url": url}), 422, "body.url")


async def test_a_change_to_a_refused_url_is_refused(client):
    hook = await _webhook(client)
    assert_problem(await client.patch(f"/v1/webhooks/{hook['id']}", json={"url": "http://10.1.2.3/"}), 422, "body.url")


@pytest.mark.parametrize("body", [
    {"event_types": ["nothing.happened"]},
    {"event_types": ["mission.created", "mission.created"]},
    {"description": "x" * 501},
    {"url": "http://127.0.0.1:9/" + "a" * 2000},
    {"secret": "whsec_Y2hvc2VuIGJ5IHRoZSBjbGllbnQ="},
])
async def test_bad_bodies_are_refused(client, body):
    response = await client.post("/v1/webhooks", json={"url": RECEIVER, **body})
    assert_problem(response, 422)


async def test_creating_takes_the_write_scope(app, session):
    async with make_client(app, await issue_key(session, "read")) as reader:
        assert_problem(await reader.post("/v1/webhooks", json={"url": RECEIVER}), 403)
        assert (await reader.get("/v1/webhooks")).json()["items"] == []
    async with make_client(app) as anonymous:
        assert_problem(await anonymous.get("/v1/webhooks"), 401)


async def test_a_key_sees_and_changes_only_its_own_webhooks(app, client, session):
    cluster = await factories.create(client, "/v1/clusters", factories.cluster())
    owner_key, other_key = await issue_key(session, "write"), await issue_key(session, "write", cluster=cluster["slug"])
    async with make_client(app, owner_key) as owner, make_client(app, other_key) as other:
        hook = await _webhook(owner)
        mine = await _webhook(other)
        path = f"/v1/webhooks/{hook['id']}"
        assert_problem(await other.get(path), 404)
        assert_problem(await other.patch(path, json={"enabled": False}), 404)
        assert_problem(await other.delete(path), 404)
        assert_problem(await other.get(f"{path}/deliveries"), 404)
        assert_problem(await other.post(f"{path}/deliveries/{uuid.uuid4()}/resend"), 404)
        assert [w["id"] for w in (await other.get("/v1/webhooks")).json()["items"]] == [mine["id"]]
        assert [w["id"] for w in (await owner.get("/v1/webhooks")).json()["items"]] == [hook["id"]]
    # Admins see every webhook.
    assert {w["id"] for w in (await client.get("/v1/webhooks")).json()["items"]} == {hook["id"], mine["id"]}
    assert (await client.get(path)).status_code == 200


async def test_patch_merges_and_enabled_clears_the_reason(client):
    hook = await _webhook(client, description="first", event_types=["cluster.created"])
    path = f"/v1/webhooks/{hook['id']}"
    disabled = (await client.patch(path, json={"enabled": False})).json()
    assert not disabled["enabled"] and disabled["disabled_reason"] and disabled["disabled_at"]
    assert disabled["description"] == "first" and disabled["event_types"] == ["cluster.created"]
    enabled = (await client.patch(path, json={"enabled": True, "event_types": []})).json()
    assert enabled["enabled"] and enabled["disabled_reason"] is None and enabled["disabled_at"] is None
    assert enabled["event_types"] == []
    cleared = (await client.patch(path, json={"description": None})).json()
    assert cleared["description"] is None
    for field in ("url", "event_types", "enabled"):
        assert_problem(await client.patch(path, json={field: None}), 422, f"body.{field}")


async def test_if_match_guards_changes(client):
    hook = await _webhook(client)
    path = f"/v1/webhooks/{hook['id']}"
    etag = (await client.get(path)).headers["etag"]
    assert (await client.patch(path, json={"description": "new"}, headers={"If-Match": etag})).status_code == 200
    assert_problem(await client.patch(path, json={"description": "newer"}, headers={"If-Match": etag}), 412)
    assert_problem(await client.delete(path, headers={"If-Match": etag}), 412)


async def test_unknown_webhooks_and_deliveries_answer_404(client):
    assert_problem(await client.get("/v1/webhooks/not-an-id"), 404)
    assert_problem(await client.get(f"/v1/webhooks/{uuid.uuid4()}"), 404)
    hook = await _webhook(client)
    assert_problem(await client.post(f"/v1/webhooks/{hook['id']}/deliveries/nope/resend"), 404)
    assert_problem(await client.post(f"/v1/webhooks/{hook['id']}/deliveries/{uuid.uuid4()}/resend"), 404)


async def _delivery(session, webhook_id: str, status: str, event_id: int = 1) -> str:
    delivery_id = uuid.uuid4()
    await session.execute(insert(WebhookDelivery).values(
        id=delivery_id, webhook_id=uuid.UUID(webhook_id), event_id=event_id, event_type="cluster.created",
        payload="{}", status=status,
    ))
    await session.commit()
    return str(delivery_id)


async def test_deliveries_page_newest_first_and_filter_by_status(client, session):
    hook = await _webhook(client)
    path = f"/v1/webhooks/{hook['id']}/deliveries"
    ids = [await _delivery(session, hook["id"], status, n) for n, status in enumerate(["failed", "succeeded", "failed"])]
    first = (await client.get(path, params={"limit": 2})).json()
    rest = (await client.get(path, params={"limit": 2, "cursor": first["next_cursor"]})).json()
    assert [d["id"] for d in first["items"] + rest["items"]] == ids[::-1] and rest["next_cursor"] is None
    failed = (await client.get(path, params={"status": "failed"})).json()["items"]
    assert {d["id"] for d in failed} == {ids[0], ids[2]}
    assert_problem(await client.get(path, params={"status": "lost"}), 422)
    assert_problem(await client.get(path, params={"cursor": "forged"}), 422)


async def test_a_resend_queues_an_attempt_unless_the_webhook_is_disabled(client, session):
    hook = await _webhook(client)
    delivery = await _delivery(session, hook["id"], "failed")
    resend = f"/v1/webhooks/{hook['id']}/deliveries/{delivery}/resend"
    answer = await client.post(resend)
    assert answer.status_code == 202 and answer.json()["status"] == "pending"
    await client.patch(f"/v1/webhooks/{hook['id']}", json={"enabled": False})
    assert_problem(await client.post(resend), 409)


def _event(event_id: int, type_: str = "cluster.created", audience: uuid.UUID | None = None) -> Event:
    return Event(
        id=event_id, txid=1, type=type_, resource_id=uuid.uuid4(), resource_version=1,
        occurred_at=datetime(2030, 1, 15, tzinfo=UTC), data={"id": "x", "name": "n"}, audience_key_id=audience,
    )


async def _fanned_out(session) -> list[WebhookDelivery]:
    return list(await session.scalars(select(WebhookDelivery).order_by(WebhookDelivery.event_id)))


async def test_fan_out_makes_a_delivery_and_a_job_per_subscribed_webhook(client, session):
    every = await _webhook(client)
    clusters = await _webhook(client, event_types=["cluster.created", "cluster.updated"])
    off = await _webhook(client)
    await client.patch(f"/v1/webhooks/{off['id']}", json={"enabled": False})
    await fan_out(session, [_event(1), _event(2, "mission.created")])
    made = {(str(d.webhook_id), d.event_id) for d in await _fanned_out(session)}
    assert made == {(every["id"], 1), (every["id"], 2), (clusters["id"], 1)}
    jobs = await session.execute(text(
        "SELECT id, args->>'delivery', args->'retry' FROM procrastinate_jobs WHERE task_name = 'webhooks:deliver'"
    ))
    queued = {delivery: (job_id, retry) for job_id, delivery, retry in jobs}
    for delivery in await _fanned_out(session):
        assert queued[str(delivery.id)] == (delivery.job_id, 0)
        assert json.loads(delivery.payload)["id"] == str(delivery.event_id)


async def test_an_event_meant_for_one_key_goes_to_that_keys_webhooks_only(client, app, session):
    mine = await _webhook(client)
    async with make_client(app, await issue_key(session, "write")) as other_client:
        theirs = await _webhook(other_client)
    owner = await session.scalar(select(Webhook.api_key_id).where(Webhook.id == uuid.UUID(mine["id"])))
    await fan_out(session, [_event(1, "saved_search.matched", audience=owner), _event(2)])
    made = {(str(d.webhook_id), d.event_id) for d in await _fanned_out(session)}
    assert made == {(mine["id"], 1), (mine["id"], 2), (theirs["id"], 2)}


async def test_old_finished_deliveries_are_purged(client, session, sessionmaker, clock, settings):
    hook = await _webhook(client)
    statuses = {"pending": 31, "retrying": 31, "succeeded": 29, "failed": 31}  # days old
    ids = {status: await _delivery(session, hook["id"], status, n) for n, status in enumerate(statuses)}
    ids["old success"] = await _delivery(session, hook["id"], "succeeded", 9)
    for status, days in (statuses | {"old success": 31}).items():
        await session.execute(text("UPDATE webhook_deliveries SET created_at = :at WHERE id = :id"),
                              {"at": clock.now() - timedelta(days=days), "id": uuid.UUID(ids[status])})
    await session.commit()
    assert await purge(Resources(sessionmaker, settings, clock)) == 2
    left = {str(d.id) for d in await _fanned_out(session)}
    assert left == {ids["pending"], ids["retrying"], ids["succeeded"]}

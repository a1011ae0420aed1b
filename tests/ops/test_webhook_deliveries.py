"""Webhook deliveries made by real `partnerships worker` processes to a real HTTP receiver:
signed, retried with the same id, never after a delete, never to a refused address."""

import asyncio
import json

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import async_sessionmaker
from standardwebhooks import Webhook as Verifier

from service.config import WebhookSettings
from service.events.dispatch import dispatch
from tests.ops.conftest import WorkerProcess, admin_key_in, live_client, live_settings, url_text
from tests.webhook_receiver import Answer, Receiver, make_events, receiver_fixture  # noqa: F401 - the receiver fixture

LOOPBACK = '["127.0.0.0/8"]'


@pytest.fixture
async def database(committed_database):
    url, engine = committed_database
    return url, engine, await admin_key_in(url)


def _worker_env(url, allow: str | None = LOOPBACK, delays: str = "[0.2, 0.2]") -> dict[str, str]:
    env = {"DATABASE_URL": url_text(url), "WEBHOOKS__RETRY_DELAYS_SECONDS": delays, "WEBHOOKS__RETRY_JITTER": "0"}
    if allow:
        env["WEBHOOKS__ALLOW_NETWORKS"] = allow
    return env


async def _worker(env: dict[str, str], tmp_path, name: str = "worker") -> WorkerProcess:
    worker = WorkerProcess(env, tmp_path / f"{name}.log")
    await worker.wait_ready()
    return worker


def _api(url, key):
    settings = live_settings(url, webhooks=WebhookSettings(allow_networks=["127.0.0.0/8"]))
    return live_client(settings, key=key)


async def _register(api, receiver: Receiver, path: str, **fields) -> dict:
    response = await api.post("/v1/webhooks", json={"url": receiver.url(path), **fields})
    assert response.status_code == 201, response.text
    return response.json()


def _verified(secret: str, received) -> dict:
    return Verifier(secret).verify(received.body, received.headers)


async def _deliveries(api, hook: dict) -> list[dict]:
    return (await api.get(f"/v1/webhooks/{hook['id']}/deliveries")).json()["items"]


async def _once_delivery(api, hook: dict, status: str, timeout: float = 30.0) -> dict:
    """The webhook's one delivery, once it has the status."""
    for _ in range(int(timeout / 0.1)):
        deliveries = await _deliveries(api, hook)
        if deliveries and deliveries[0]["status"] == status:
            return deliveries[0]
        await asyncio.sleep(0.1)
    raise AssertionError(f"no delivery reached {status} in {timeout} s: {deliveries}")


async def _dispatched(engine, timeout: float = 60.0) -> None:
    """Hand the feed to the webhooks here. An event is handed on once every transaction older
    than its own has ended, on the whole server (transaction ids are), so this waits for any
    other database's transaction that was open at the time."""
    sessions = async_sessionmaker(engine, expire_on_commit=False)
    for _ in range(int(timeout / 0.1)):
        if await dispatch(sessions):
            return
        await asyncio.sleep(0.1)
    raise AssertionError(f"the event was not settled within {timeout} s")


async def _jobs_waiting(engine) -> int:
    async with engine.connect() as connection:
        return await connection.scalar(text(
            "SELECT count(*) FROM procrastinate_jobs WHERE task_name = 'webhooks:deliver' AND status IN ('todo', 'doing')"
        ))


async def test_deliveries_are_signed_and_failures_retried_with_the_same_id(database, receiver, tmp_path):
    url, _, key = database
    receiver.answers["/flaky"] = [Answer(500), Answer(500)]
    receiver.answers["/moved"] = [Answer(302, {"Location": receiver.url("/inside")})] * 3
    async with _api(url, key) as api:
        steady = await _register(api, receiver, "/steady", event_types=["cluster.created"])
        flaky = await _register(api, receiver, "/flaky")
        moved = await _register(api, receiver, "/moved")
        other = await _register(api, receiver, "/other", event_types=["mission.created"])
        worker = await _worker(_worker_env(url), tmp_path)
        try:
            await make_events(url)
            [delivered] = await receiver.wait_for("/steady", 1)
            tries = await receiver.wait_for("/flaky", 3)
            log = await _once_delivery(api, flaky, "succeeded")
            refused = await _once_delivery(api, moved, "failed")
        finally:
            worker.stop()
        event = (await api.get("/v1/events")).json()["items"][0]
        # The body is the event as the change feed lists it, and the signature verifies.
        assert _verified(steady["secret"], delivered) == json.loads(json.dumps(event))
        assert delivered.headers["webhook-id"] == event["id"] and delivered.headers["content-type"] == "application/json"
        assert {t.headers["webhook-id"] for t in tries} == {event["id"]}
        for attempt in tries:
            _verified(flaky["secret"], attempt)
        assert (log["status"], log["attempt_count"], log["next_attempt_at"]) == ("succeeded", 3, None)
        assert [a["response_status"] for a in log["attempts"]] == [500, 500, 200]
        assert log["attempts"][0]["error"] and log["attempts"][2]["succeeded"]
        # A redirect is a failure, not followed; after the last retry the webhook is disabled.
        assert receiver.at("/inside") == []
        assert len(refused["attempts"]) == 3 and "redirects are not followed" in refused["attempts"][-1]["error"]
        disabled = (await api.get(f"/v1/webhooks/{moved['id']}")).json()
        assert not disabled["enabled"] and "3 attempts" in disabled["disabled_reason"]
        assert receiver.at("/other") == [] and await _deliveries(api, other) == []


async def test_nothing_is_delivered_once_the_webhook_is_deleted_or_disabled(database, receiver, tmp_path):
    url, engine, key = database
    receiver.answers["/down"] = [Answer(503)]
    async with _api(url, key) as api:
        queued = await _register(api, receiver, "/queued")
        paused = await _register(api, receiver, "/paused")
        retrying = await _register(api, receiver, "/down")
        # The feed is handed to the webhooks here, so the deliveries' jobs wait for a worker.
        await make_events(url)
        await _dispatched(engine)
        assert (await api.delete(f"/v1/webhooks/{queued['id']}")).status_code == 204
        assert (await api.patch(f"/v1/webhooks/{paused['id']}", json={"enabled": False})).status_code == 200
        worker = await _worker(_worker_env(url, delays="[3]"), tmp_path)
        try:
            await _once_delivery(api, paused, "failed")
            await _once_delivery(api, retrying, "retrying")
            assert (await api.delete(f"/v1/webhooks/{retrying['id']}")).status_code == 204
            for _ in range(100):  # the retry is due in 3 s; a worker polls for due jobs every 5 s
                if await _jobs_waiting(engine) == 0:
                    break
                await asyncio.sleep(0.1)
            assert await _jobs_waiting(engine) == 0
        finally:
            worker.stop()
    assert receiver.at("/queued") == receiver.at("/paused") == [] and len(receiver.at("/down")) == 1


async def test_an_address_refused_at_delivery_is_not_reached(database, receiver, tmp_path):
    # The API allowed loopback when the webhook was registered; the worker does not (as when a
    # host's DNS answer turns private after the check): each attempt is refused before connecting.
    url, _, key = database
    async with _api(url, key) as api:
        hook = await _register(api, receiver, "/private")
        worker = await _worker(_worker_env(url, allow=None, delays="[0.1]"), tmp_path)
        try:
            await make_events(url)
            delivery = await _once_delivery(api, hook, "failed")
        finally:
            worker.stop()
        assert delivery["status"] == "failed" and delivery["attempt_count"] == 2
        assert all("refused" in a["error"] and a["response_status"] is None for a in delivery["attempts"])
        assert not (await api.get(f"/v1/webhooks/{hook['id']}")).json()["enabled"]
    assert receiver.received == []


async def test_a_resend_takes_the_place_of_the_scheduled_retry(database, receiver, tmp_path):
    url, engine, key = database
    receiver.answers["/again"] = [Answer(500)]
    async with _api(url, key) as api:
        hook = await _register(api, receiver, "/again")
        worker = await _worker(_worker_env(url, delays="[2]"), tmp_path)
        try:
            await make_events(url)
            delivery = await _once_delivery(api, hook, "retrying")
            resent = await api.post(f"/v1/webhooks/{hook['id']}/deliveries/{delivery['id']}/resend")
            assert resent.status_code == 202 and resent.json()["status"] == "pending"
            delivery = await _once_delivery(api, hook, "succeeded")
            for _ in range(150):  # the replaced retry falls due and finds its place taken
                if await _jobs_waiting(engine) == 0:
                    break
                await asyncio.sleep(0.1)
        finally:
            worker.stop()
    first, second = receiver.at("/again")
    assert second.headers["webhook-id"] == first.headers["webhook-id"] and second.body == first.body
    _verified(hook["secret"], second)
    assert delivery["attempt_count"] == 2 and await _jobs_waiting(engine) == 0

"""One delivery attempt on the wire, against a real loopback receiver: what is sent, and what
is kept of what comes back, whatever the receiver does."""

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from standardwebhooks import Webhook as Verifier
from standardwebhooks import WebhookVerificationError

from service.config import WebhookSettings
from service.webhooks import signing
from service.webhooks.deliveries import KEPT_ATTEMPTS, wait
from tests.webhook_receiver import Answer, Receiver, receiver_fixture  # noqa: F401 - the receiver fixture

LOOPBACK = WebhookSettings(allow_networks=["127.0.0.0/8"], timeout_seconds=1, max_response_bytes=100)
PAYLOAD = '{"id":"7","type":"cluster.created","data":{"name":"Ünïcode"}}'


async def _post(receiver: Receiver, answer: Answer | None = None, settings: WebhookSettings = LOOPBACK, secret: str = "") -> signing.Outcome:
    if answer:
        receiver.answers["/hook"] = [answer]
    secret = secret or signing.new_secret()
    return await signing.post(receiver.url("/hook"), PAYLOAD, signing.headers(secret, "7", PAYLOAD, datetime.now(UTC)), settings)


async def test_the_post_is_signed_for_standard_webhooks(receiver):
    secret = signing.new_secret()
    outcome = await _post(receiver, secret=secret)
    assert outcome.succeeded and outcome.status == 200 and outcome.body == "ok" and outcome.error is None
    [received] = receiver.received
    assert received.body.decode() == PAYLOAD
    assert Verifier(secret).verify(received.body, received.headers)["data"]["name"] == "Ünïcode"
    with pytest.raises(WebhookVerificationError):
        Verifier(signing.new_secret()).verify(received.body, received.headers)
    assert received.headers["webhook-id"] == "7" and received.headers["content-type"] == "application/json"


def test_secrets_are_standard_and_random():
    secret = signing.new_secret()
    assert secret.startswith("whsec_") and len(secret) == len("whsec_") + 44
    assert len({signing.new_secret() for _ in range(100)}) == 100
    # A signature more than five minutes old is refused by receivers: attempts sign afresh.
    old = signing.headers(secret, "7", PAYLOAD, datetime.now(UTC) - timedelta(minutes=6))
    with pytest.raises(WebhookVerificationError):
        Verifier(secret).verify(PAYLOAD, old)


@pytest.mark.parametrize(("answer", "error"), [
    (Answer(500, body=b"boom"), "HTTP 500"),
    (Answer(302, {"Location": "http://127.0.0.1:9/inside"}), "redirects are not followed"),
    (Answer(200, delay=2), "no answer within 1 s"),
])
async def test_anything_but_a_timely_2xx_fails(receiver, answer, error):
    outcome = await _post(receiver, answer)
    assert not outcome.succeeded and error in outcome.error
    assert [r.path for r in receiver.received] == ["/hook"]  # the redirect was not followed


async def test_only_the_start_of_the_answer_is_kept_and_it_is_storable(receiver):
    outcome = await _post(receiver, Answer(201, body=b"\x00" * 10 + b"\xff" + b"x" * 10_000))
    assert outcome.succeeded and "\x00" not in outcome.body
    assert len(outcome.body.encode()) <= 3 * 100  # a replacement character is three bytes


async def test_a_refused_address_is_not_connected_to(receiver):
    outcome = await _post(receiver, settings=WebhookSettings())
    assert outcome.status is None and outcome.error.startswith("refused:") and receiver.received == []


async def test_a_connection_error_is_an_outcome_not_an_exception():
    url = f"http://127.0.0.1:9/{uuid.uuid4()}"  # discard: nothing listens
    outcome = await signing.post(url, PAYLOAD, signing.headers(signing.new_secret(), "7", PAYLOAD, datetime.now(UTC)), LOOPBACK)
    assert outcome.status is None and "ConnectError" in outcome.error


def test_waits_follow_the_schedule_within_the_jitter():
    settings = WebhookSettings()
    assert [wait(WebhookSettings(retry_jitter=0), n).total_seconds() for n in range(7)] == [5, 300, 1800, 7200, 18000, 36000, 36000]
    waits = [wait(settings, 1).total_seconds() for _ in range(200)]
    assert 270 <= min(waits) < max(waits) <= 330
    assert KEPT_ATTEMPTS >= len(settings.retry_delays_seconds) + 1  # a whole schedule stays in the log

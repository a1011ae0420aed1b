"""One delivery attempt on the wire: the secret, the signed headers (Standard Webhooks), the POST.

The POST goes through the outbound address guard (kit/outbound.py) at every attempt, so a
host whose DNS answer turned private since the webhook was registered is refused; redirects
are not followed (a 3xx is a failed attempt), and the receiver's answer is read only up to
WEBHOOKS__MAX_RESPONSE_BYTES.
"""

import asyncio
import base64
import functools
import secrets
import ssl
import time
from dataclasses import dataclass
from datetime import datetime

import httpx
from standardwebhooks import Webhook as Signer

from service.config import WebhookSettings
from service.kit import outbound

SECRET_PREFIX = "whsec_"
SECRET_BYTES = 32
USER_AGENT = "partnership-opportunity-api webhooks"


def new_secret() -> str:
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(SECRET_BYTES)).decode()


def headers(secret: str, message_id: str, payload: str, at: datetime) -> dict[str, str]:
    """The headers of Standard Webhooks: the message id (the event's, the same at every
    attempt, so receivers can drop repeats), when it was signed, and the signature."""
    return {
        "webhook-id": message_id,
        "webhook-timestamp": str(int(at.timestamp())),
        "webhook-signature": Signer(secret).sign(message_id, at, payload),
        "content-type": "application/json",
        "user-agent": USER_AGENT,
        # The answer is read raw: a compressed one could expand past any bound in a single chunk.
        "accept-encoding": "identity",
    }


@dataclass(frozen=True)
class Outcome:
    duration_ms: int
    status: int | None = None
    body: str | None = None
    error: str | None = None

    @property
    def succeeded(self) -> bool:
        return self.status is not None and 200 <= self.status < 300


@functools.cache
def _tls() -> ssl.SSLContext:
    """One TLS context for every attempt of the process: building it (reading the CA bundle)
    took longer than a whole delivery to a nearby receiver. Connections are not pooled across
    attempts: two hosts behind one address must not share a TLS session made for one of them."""
    return httpx.create_ssl_context()


def storable(text: str) -> str:
    """Text PostgreSQL keeps in JSON (no NUL character), from whatever a receiver sent."""
    return text.replace("\x00", "\ufffd")


async def _start_of(response: httpx.Response, max_bytes: int) -> str:
    kept = bytearray()
    async for chunk in response.aiter_raw():
        kept += chunk[: max_bytes - len(kept)]
        if len(kept) >= max_bytes:
            break
    return storable(kept.decode("utf-8", errors="replace"))


def _error(status: int) -> str | None:
    if 200 <= status < 300:
        return None
    if 300 <= status < 400:
        return f"the endpoint answered HTTP {status}; redirects are not followed"
    return f"the endpoint answered HTTP {status}"


async def post(url: str, payload: str, signed: dict[str, str], settings: WebhookSettings) -> Outcome:
    """POST payload to url once; never raises for what the endpoint or the network does."""
    started = time.perf_counter()

    def took() -> int:
        return round((time.perf_counter() - started) * 1000)

    try:
        async with asyncio.timeout(settings.timeout_seconds):
            async with httpx.AsyncClient(timeout=settings.timeout_seconds, verify=_tls()) as client:
                response = await outbound.send(
                    client, "POST", url, outbound.networks(settings.allow_networks), headers=signed,
                    content=payload.encode(),
                )
                try:
                    body = await _start_of(response, settings.max_response_bytes)
                finally:
                    await response.aclose()
        return Outcome(took(), response.status_code, body, _error(response.status_code))
    except outbound.Refused as exc:
        return Outcome(took(), error=storable(f"refused: {exc}"))
    except TimeoutError:
        return Outcome(took(), error=f"no answer within {settings.timeout_seconds:g} s")
    except httpx.HTTPError as exc:
        return Outcome(took(), error=storable(f"{exc.__class__.__name__}: {exc}"))

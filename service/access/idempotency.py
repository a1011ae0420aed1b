"""Idempotency-Key for POST: a retried request gets the first answer, and acts only once.

The first request with a key reserves it (a row committed at once, before the request acts),
so a second request with the same key that arrives while the first is still running is told
so (409) instead of acting again; when the first one ends its answer is stored and replayed to
every retry within the TTL, with `Idempotent-Replayed: true`. A retry that is not the same
request (another method, path, query or body) answers 422. Keys belong to the client that
sent them (its API key): two clients may use the same key without meeting. Answers are kept
for ACCESS__IDEMPOTENCY_TTL_HOURS; expired ones are purged (service/ops/purge.py), a batch at
most once a minute per process, after an answer has gone out.

An answer marked `Cache-Control: no-store` carries a secret (a new API key) and is never
stored: only its status and Location are, and a retry answers 409 saying the request
succeeded, that its secret is shown once, and where what it created is. Any route declares
itself so by that header, which also keeps its answer out of every other cache.

Answers are stored for 2xx and for client errors that a retry would meet again (400, 404,
412, 413, 415, 422). Failures that may pass (401, 403, 409, 429, 5xx) free the key, so a
retry acts. If the process dies between acting and storing, the key stays reserved and
retries answer 409 until it expires: never a second act.

Bulk loads keep their own, stronger scheme (the answer committed with the data), so this
middleware leaves /v1/bulk alone.
"""

import hashlib
import logging
import time
from datetime import timedelta
from typing import Literal

from sqlalchemy import delete, func, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from starlette.datastructures import Headers
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from service.config import Settings
from service.errors import Conflict, InvalidInput, ServiceError, handled_response
from service.models import IdempotencyRecord
from service.ops.bounds import read_body, replay_body, send_problem
from service.ops.identity import client_identity
from service.ops.purge import purge_batch

log = logging.getLogger(__name__)

HEADER = "idempotency-key"
PURGE_INTERVAL_SECONDS = 60
MAX_KEY_LENGTH = 255
STORED_STATUSES = {400, 404, 412, 413, 415, 422}
REPLAYED_HEADERS = {"content-type", "location", "etag", "cache-control"}


class IdempotencyMiddleware:
    def __init__(self, app: ASGIApp):
        self.app = app
        self.next_purge = 0.0  # time.monotonic() of the next purge of expired answers

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "POST" or scope["path"].startswith("/v1/bulk"):
            return await self.app(scope, receive, send)
        headers = Headers(scope=scope)
        key = headers.get(HEADER)
        if key is None or "authorization" not in headers:
            return await self.app(scope, receive, send)  # anonymous writes are refused anyway
        if not 0 < len(key) <= MAX_KEY_LENGTH or not key.isprintable():
            error = InvalidInput(f"Idempotency-Key must be 1 to {MAX_KEY_LENGTH} printable characters.")
            return await send_problem(scope, receive, send, error)
        body = await read_body(receive)
        if body is None:
            return  # the client went away
        state = scope["app"].state
        sessions, ttl_hours = state.sessionmaker, state.settings.access.idempotency_ttl_hours
        client = (await client_identity(scope)).key
        digest = _fingerprint(scope, headers, body)
        try:
            async with sessions() as session:
                reserved = await _reserve(session, client, key, digest, ttl_hours)
                await session.commit()
        except Exception as exc:  # the database is down or busy: the answer any request gets then (503)
            return await (await handled_response(Request(scope), exc))(scope, receive, send)
        if reserved is not True:
            return await _answer_existing(scope, receive, send, reserved, digest)

        answer = _Answer(send)
        try:
            await self.app(scope, replay_body(body, receive), answer.send)
        finally:
            # The answer has gone out by now: failures here are logged, not answered.
            try:
                async with sessions() as session:
                    await _settle(session, client, key, answer)
                    await session.commit()
            except Exception:
                # The key stays reserved (retries answer 409) until it expires: never a second act.
                log.warning("could not store the answer to an idempotent request", exc_info=True)
            await self._purge_if_due(sessions, state.settings)

    async def _purge_if_due(self, sessions: async_sessionmaker[AsyncSession], settings: Settings) -> None:
        if time.monotonic() < self.next_purge:
            return
        self.next_purge = time.monotonic() + PURGE_INTERVAL_SECONDS
        try:
            async with sessions() as session:
                await purge_batch(session, settings)
                await session.commit()
        except Exception:
            log.warning("could not purge expired idempotency answers", exc_info=True)


class _Answer:
    """Passes the response through, keeping a copy to store."""

    def __init__(self, send: Send):
        self._send = send
        self.status: int | None = None
        self.headers: list[list[str]] = []
        self.body = bytearray()
        self.secret = False  # marked Cache-Control: no-store

    async def send(self, message: Message) -> None:
        if message["type"] == "http.response.start":
            self.status = message["status"]
            self.headers = [
                [name.decode("latin-1"), value.decode("latin-1")]
                for name, value in message.get("headers", [])
                if name.decode("latin-1").lower() in REPLAYED_HEADERS
            ]
            self.secret = any(name.lower() == "cache-control" and _no_store(value) for name, value in self.headers)
            if self.secret:
                self.headers = [[name, value] for name, value in self.headers if name.lower() == "location"]
        elif message["type"] == "http.response.body" and not self.secret:
            self.body += message.get("body", b"")
        await self._send(message)


def _no_store(cache_control: str) -> bool:
    return any(part.split("=")[0].strip().lower() == "no-store" for part in cache_control.split(","))


def _fingerprint(scope: Scope, headers: Headers, body: bytes) -> str:
    parts = [scope["method"], scope["path"], scope.get("query_string", b"").decode("latin-1"),
             headers.get("content-type", "")]
    return hashlib.sha256("\n".join(parts).encode() + b"\n" + body).hexdigest()


async def _reserve(
    session: AsyncSession, client: str, key: str, digest: str, ttl_hours: int
) -> Literal[True] | IdempotencyRecord:
    """True when this request now holds the key, else the stored record."""
    r = IdempotencyRecord
    expired = func.statement_timestamp() - timedelta(hours=ttl_hours)
    await session.execute(delete(r).where(r.client == client, r.key == key, r.created_at <= expired))
    inserted = await session.execute(
        insert(r).values(client=client, key=key, fingerprint=digest).on_conflict_do_nothing().returning(r.key)
    )
    if inserted.first() is not None:
        return True
    return (await session.execute(select(r).where(r.client == client, r.key == key))).scalar_one()


async def _settle(session: AsyncSession, client: str, key: str, answer: _Answer) -> None:
    r = IdempotencyRecord
    where = (r.client == client, r.key == key)
    if answer.status is not None and (200 <= answer.status < 300 or answer.status in STORED_STATUSES):
        await session.execute(
            update(r).where(*where).values(
                status=answer.status, headers=answer.headers, body=None if answer.secret else bytes(answer.body),
                secret_withheld=answer.secret,
            )
        )
    else:
        await session.execute(delete(r).where(*where))


async def _answer_existing(scope: Scope, receive: Receive, send: Send, record: IdempotencyRecord, digest: str) -> None:
    error: ServiceError
    if record.fingerprint != digest:
        error = InvalidInput("This Idempotency-Key was used for a different request; use a new key.")
        return await send_problem(scope, receive, send, error)
    if record.status is None:
        error = Conflict(
            "A request with this Idempotency-Key is still running (or did not finish); retry later or use a new key.",
            headers={"Retry-After": "1"},
        )
        return await send_problem(scope, receive, send, error)
    if record.secret_withheld:
        location = dict((n.lower(), v) for n, v in record.headers or []).get("location")
        error = Conflict(
            "A request with this Idempotency-Key already succeeded. Its answer carried a secret, which is "
            "shown only once and was not kept" + (f"; what it created is at {location}." if location else "."),
            headers={"Location": location, "Idempotent-Replayed": "true"} if location else {"Idempotent-Replayed": "true"},
        )
        return await send_problem(scope, receive, send, error)
    headers = [(n.encode("latin-1"), v.encode("latin-1")) for n, v in record.headers or []]
    headers += [(b"idempotent-replayed", b"true"), (b"content-length", str(len(record.body or b"")).encode())]
    await send({"type": "http.response.start", "status": record.status, "headers": headers})
    await send({"type": "http.response.body", "body": record.body or b""})

"""The key list cursors are signed with.

CURSORS__SECRET when set; otherwise a random key generated once and kept in the database
(service_secrets), so that every replica signs and checks alike and cursors survive
restarts. It is read by the first request of each process rather than at start-up: a
process must start, and answer 503, while the database is down.
"""

from fastapi import Request

from service.db import READ_METHODS
from service.kit.pagination import signing_key
from service.kit.secret_store import shared_secret

SECRET_NAME = "cursor-signing-key"


async def cursor_signing(request: Request) -> None:
    """Dependency of every /v1 route: makes the key available to the lists, which are all
    reads. Writes never need it, so they never wait on it (nor on a replica that is down)."""
    if request.method not in READ_METHODS:
        return
    state = request.app.state
    key = state.cursor_key
    if key is None:
        key = state.cursor_key = await shared_secret(state.read_sessionmaker, state.sessionmaker, SECRET_NAME)
    signing_key.set(key)

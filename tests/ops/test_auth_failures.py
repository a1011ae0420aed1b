"""Forged credentials are limited per address: each one is a new "client" to the ordinary
limits (which tell clients apart by their credentials), and each would cost a key lookup."""

import asyncio

import httpx
import pytest

from service.access import keys
from tests.ops.conftest import ServeProcess, admin_key_in, table_locked, url_text
from tests.problems import assert_problem

pytestmark = pytest.mark.slow

LIMIT = 5
ATTACKER, NEIGHBOUR = "203.0.113.7", "203.0.113.8"


def _from(address: str, key: str | None = None) -> dict[str, str]:
    # The server trusts X-Forwarded-For from 127.0.0.1 (SERVER__FORWARDED_ALLOW_IPS).
    headers = {"X-Forwarded-For": address}
    return headers | ({"Authorization": f"Bearer {key}"} if key else {})


def _forged() -> str:
    return keys.new_key()[0]  # well formed, so only a lookup could tell it is unknown


async def test_forged_tokens_get_429_after_the_limit_without_a_key_lookup(tmp_path, live_database):
    admin = await admin_key_in(live_database)
    server = ServeProcess({"DATABASE_URL": url_text(live_database), "LIMITS__AUTH_FAILURES_PER_MINUTE": str(LIMIT),
                           "DB__STATEMENT_TIMEOUT_MS": "3000"}, tmp_path / "serve.log")
    try:
        await server.wait_ready()
        async with httpx.AsyncClient(base_url=server.base_url, timeout=10) as client:
            for _ in range(LIMIT):
                assert_problem(await client.post("/v1/clusters", json={}, headers=_from(ATTACKER, _forged())), 401)
            # The key table is locked: a request that looked a key up would wait (and time out
            # with 503); the 429 comes at once.
            async with table_locked(live_database, "api_keys"):
                refused = await asyncio.wait_for(
                    client.post("/v1/clusters", json={}, headers=_from(ATTACKER, _forged())), timeout=2)
                problem = assert_problem(refused, 429)
                assert f"{LIMIT} refused credentials" in problem["detail"] and int(refused.headers["Retry-After"]) >= 1
                assert refused.headers["RateLimit-Policy"] == f'"auth-failures";q={LIMIT};w=60'
                # Credentials from that address are not looked at, even good ones...
                assert_problem(await asyncio.wait_for(
                    client.get("/v1/sectors", headers=_from(ATTACKER, admin)), timeout=2), 429)
            # ...while reads without credentials from it, and keys from elsewhere, are served.
            assert (await client.get("/v1/sectors", headers=_from(ATTACKER))).status_code == 200
            created = await client.post("/v1/clusters", headers=_from(NEIGHBOUR, admin),
                                        json={"slug": "neighbour", "name": "Neighbour", "country": "FR"})
            assert created.status_code == 201, created.text
            # A valid key's requests are not failures: they never use up the budget.
            for _ in range(LIMIT + 1):
                assert (await client.get("/v1/api-keys", headers=_from(NEIGHBOUR, admin))).status_code == 200
    finally:
        server.stop()

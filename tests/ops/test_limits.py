"""Rate limits: per client, per policy, shared through Redis, and failing open."""

import logging
import secrets
import socket
import time
from contextlib import closing

import httpx
import pytest

from service.access import keys
from service.config import LimitSettings, Settings
from service.main import create_app
from service.ops.identity import ClientIdentity
from tests import factories
from tests.conftest import _no_server_errors, issue_key
from tests.ops.conftest import free_port
from tests.problems import assert_problem


def make_client(app, address: str = "203.0.113.7", key: str | None = None) -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False, client=(address, 4711))
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    return httpx.AsyncClient(
        transport=transport, base_url="http://test", headers=headers, event_hooks={"response": [_no_server_errors]}
    )


def limited_app(sessionmaker, redis_url: str | None = None, **limits):
    settings = Settings(
        database_url="postgresql://unused/never-connected", redis_url=redis_url, limits=LimitSettings(**limits)
    )
    return create_app(settings, sessionmaker=sessionmaker)


async def bearer(session) -> dict[str, str]:
    # A fresh key per call: its counters cannot collide with another run's in Redis.
    return {"Authorization": f"Bearer {await issue_key(session)}"}


@pytest.mark.parametrize("strategy", ["moving-window", "fixed-window", "sliding-window-counter"])
async def test_reads_over_the_limit_answer_429_with_retry_after_and_draft_headers(sessionmaker, strategy):
    async with make_client(limited_app(sessionmaker, reads_per_minute=3, strategy=strategy)) as client:
        remaining = []
        for _ in range(3):
            response = await client.get("/v1/sectors")
            assert response.status_code == 200
            assert response.headers["RateLimit-Policy"] == '"reads";q=3;w=60'
            remaining.append(response.headers["RateLimit"])
        assert [r.split(";")[1] for r in remaining] == ["r=2", "r=1", "r=0"]
        assert all(r.startswith('"reads";') and 0 <= int(r.split("t=")[1]) <= 60 for r in remaining)

        refused = await client.get("/v1/sectors")
        problem = assert_problem(refused, 429)
        assert "3 reads per minute" in problem["detail"]
        assert 1 <= int(refused.headers["Retry-After"]) <= 60
        assert refused.headers["RateLimit"].startswith('"reads";r=0;t=')


async def test_writes_have_their_own_budget(sessionmaker, admin_key):
    async with make_client(limited_app(sessionmaker, reads_per_minute=100, writes_per_minute=2), key=admin_key) as client:
        for _ in range(2):
            response = await client.post("/v1/clusters", json=factories.cluster())
            assert response.status_code == 201
            assert response.headers["RateLimit-Policy"] == '"writes";q=2;w=60'
        assert_problem(await client.post("/v1/clusters", json=factories.cluster()), 429)
        assert_problem(await client.delete("/v1/clusters/whatever"), 429)
        reads = await client.get("/v1/clusters")
        assert reads.status_code == 200 and reads.headers["RateLimit"].startswith('"reads";r=99;')


async def test_clients_are_told_apart_by_credentials_else_by_address(sessionmaker, session):
    app = limited_app(sessionmaker, reads_per_minute=1)
    token = await bearer(session)
    async with make_client(app, "203.0.113.7") as first, make_client(app, "203.0.113.8") as second:
        assert (await first.get("/v1/sectors")).status_code == 200
        assert_problem(await first.get("/v1/sectors"), 429)  # same address
        assert (await second.get("/v1/sectors")).status_code == 200  # another address
        # A credential is its own client, wherever it comes from.
        assert (await first.get("/v1/sectors", headers=token)).status_code == 200
        assert_problem(await second.get("/v1/sectors", headers=token), 429)
        assert (await second.get("/v1/sectors", headers=await bearer(session))).status_code == 200


async def test_ipv6_clients_are_counted_per_64(sessionmaker):
    app = limited_app(sessionmaker, reads_per_minute=1)
    async with make_client(app, "2001:db8:1:2::1") as one, make_client(app, "2001:db8:1:2::ffff") as same_64:
        assert (await one.get("/v1/sectors")).status_code == 200
        assert_problem(await same_64.get("/v1/sectors"), 429)


async def test_an_identity_resolver_can_be_plugged_in(sessionmaker):
    app = limited_app(sessionmaker, reads_per_minute=1)
    seen = []

    async def by_tenant_header(scope):
        tenant = dict(scope["headers"]).get(b"x-tenant", b"none").decode()
        seen.append(tenant)
        return ClientIdentity("key", tenant)

    app.state.identity_resolver = by_tenant_header
    async with make_client(app, "203.0.113.7") as client, make_client(app, "203.0.113.9") as other:
        assert (await client.get("/v1/sectors", headers={"X-Tenant": "a"})).status_code == 200
        assert_problem(await other.get("/v1/sectors", headers={"X-Tenant": "a"}), 429)
        assert (await client.get("/v1/sectors", headers={"X-Tenant": "b"})).status_code == 200
    assert seen == ["a", "a", "b"]


async def test_zero_disables_a_limit_and_probes_are_never_limited(sessionmaker):
    async with make_client(limited_app(sessionmaker, reads_per_minute=0, writes_per_minute=1)) as client:
        for _ in range(5):
            response = await client.get("/v1/sectors")
            assert response.status_code == 200 and "RateLimit" not in response.headers
    async with make_client(limited_app(sessionmaker, reads_per_minute=1)) as client:
        for _ in range(3):
            assert (await client.get("/healthz")).status_code == 200


async def test_redis_counters_are_shared_between_app_instances(sessionmaker, redis_url, session):
    token = await bearer(session)
    first = limited_app(sessionmaker, redis_url=redis_url, reads_per_minute=4)
    second = limited_app(sessionmaker, redis_url=redis_url, reads_per_minute=4)
    async with make_client(first) as one, make_client(second) as two:
        statuses = []
        for client in (one, two, one, two, one, two):
            statuses.append((await client.get("/v1/sectors", headers=token)).status_code)
    assert statuses == [200, 200, 200, 200, 429, 429]


async def test_unreachable_redis_fails_open_quickly_with_a_warning(sessionmaker, caplog):
    with closing(socket.socket()) as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        closed_port = s.getsockname()[1]
    app = limited_app(sessionmaker, redis_url=f"redis://127.0.0.1:{closed_port}/0", reads_per_minute=1)
    started = time.monotonic()
    with caplog.at_level(logging.WARNING, logger="service.ops.limits"):
        async with make_client(app) as client:
            for _ in range(5):
                response = await client.get("/v1/sectors")
                assert response.status_code == 200 and "RateLimit" not in response.headers
    assert time.monotonic() - started < 2
    warnings = [r for r in caplog.records if r.name == "service.ops.limits"]
    assert len(warnings) == 1 and "serving without limits" in warnings[0].getMessage()


async def test_redis_that_accepts_but_never_answers_costs_a_bounded_delay(sessionmaker):
    with closing(socket.socket()) as listener:  # accepts connections (backlog) but never replies
        listener.bind(("127.0.0.1", free_port()))
        listener.listen(16)
        port = listener.getsockname()[1]
        app = limited_app(sessionmaker, redis_url=f"redis://127.0.0.1:{port}/0", reads_per_minute=1)
        async with make_client(app) as client:
            started = time.monotonic()
            assert (await client.get("/v1/sectors")).status_code == 200
            first = time.monotonic() - started
            started = time.monotonic()
            assert (await client.get("/v1/sectors")).status_code == 200  # Redis is skipped for a while
            second = time.monotonic() - started
    assert first < 1.5 and second < 0.5


async def test_refused_credentials_are_counted_per_address_across_instances(sessionmaker, redis_url):
    address = f"198.18.{secrets.randbelow(256)}.{secrets.randbelow(256)}"  # Redis outlives the test: a fresh one
    first = limited_app(sessionmaker, redis_url=redis_url, auth_failures_per_minute=2)
    second = limited_app(sessionmaker, redis_url=redis_url, auth_failures_per_minute=2)
    async with make_client(first, address) as one, make_client(second, address) as two:
        for client in (one, two):
            assert_problem(await client.get("/v1/sectors", headers={"Authorization": f"Bearer {keys.new_key()[0]}"}), 401)
        refused = await one.get("/v1/sectors", headers={"Authorization": "Bearer anything"})
        assert assert_problem(refused, 429)["detail"].startswith("More than 2 refused credentials per minute")
        assert (await two.get("/v1/sectors")).status_code == 200  # no credentials: nothing to refuse

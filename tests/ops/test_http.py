"""CORS and compression."""

import pytest

from service.config import CorsSettings, LimitSettings, Settings
from service.main import create_app
from tests.ops.test_limits import make_client

ORIGIN = "https://app.example.org"


@pytest.fixture
def cors_app(sessionmaker):
    settings = Settings(
        database_url="postgresql://unused/never-connected",
        cors=CorsSettings(allow_origins=[ORIGIN]),
        limits=LimitSettings(reads_per_minute=2),
    )
    return create_app(settings, sessionmaker=sessionmaker)


async def test_cors_preflight_for_an_allowed_origin(cors_app):
    async with make_client(cors_app) as client:
        response = await client.options("/v1/clusters", headers={
            "Origin": ORIGIN, "Access-Control-Request-Method": "PATCH",
            "Access-Control-Request-Headers": "If-Match, Content-Type",
        })
    assert response.status_code == 200
    assert response.headers["access-control-allow-origin"] == ORIGIN
    assert "PATCH" in response.headers["access-control-allow-methods"]
    assert "if-match" in response.headers["access-control-allow-headers"].lower()


async def test_cors_exposes_the_headers_clients_need_even_on_rejections(cors_app):
    async with make_client(cors_app) as client:
        response = await client.get("/v1/sectors", headers={"Origin": ORIGIN})
        assert response.headers["access-control-allow-origin"] == ORIGIN
        exposed = {h.strip().lower() for h in response.headers["access-control-expose-headers"].split(",")}
        assert {"etag", "link", "location", "ratelimit", "ratelimit-policy", "retry-after", "x-request-id"} <= exposed

        too_long = await client.get("/v1/clusters", params={"q": "x" * 9000}, headers={"Origin": ORIGIN})
        assert too_long.status_code == 414 and too_long.headers["access-control-allow-origin"] == ORIGIN
        too_many = await client.get("/v1/sectors", headers={"Origin": ORIGIN})
        assert too_many.status_code == 429 and too_many.headers["access-control-allow-origin"] == ORIGIN


async def test_other_origins_get_no_cors_headers(cors_app, client):
    async with make_client(cors_app) as allowed:
        response = await allowed.get("/v1/sectors", headers={"Origin": "https://evil.example"})
        assert "access-control-allow-origin" not in response.headers
    # Default settings: no origin at all.
    response = await client.get("/v1/sectors", headers={"Origin": ORIGIN})
    assert "access-control-allow-origin" not in response.headers


def test_origins_are_read_as_a_comma_separated_list_or_json(monkeypatch):
    monkeypatch.setenv("CORS__ALLOW_ORIGINS", "https://a.example, https://b.example")
    assert Settings().cors.allow_origins == ["https://a.example", "https://b.example"]
    monkeypatch.setenv("CORS__ALLOW_ORIGINS", '["https://c.example"]')
    assert Settings().cors.allow_origins == ["https://c.example"]
    monkeypatch.delenv("CORS__ALLOW_ORIGINS")
    assert Settings().cors.allow_origins == []


async def test_large_responses_are_gzipped_small_ones_are_not(client):
    large = await client.get("/v1/sectors", params={"limit": 200}, headers={"Accept-Encoding": "gzip"})
    assert large.headers["content-encoding"] == "gzip" and len(large.json()["items"]) >= 10
    assert "accept-encoding" in large.headers["vary"].lower()
    assert int(large.headers["content-length"]) < len(large.content) / 2  # what travelled was compressed
    small = await client.get("/healthz", headers={"Accept-Encoding": "gzip"})
    assert "content-encoding" not in small.headers

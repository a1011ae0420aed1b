"""JSON bodies nested deeper than LIMITS__MAX_JSON_DEPTH (64) answer 422 at `body`, on every
JSON endpoint, and change nothing; no parser ever recurses into them."""

import pytest

from service.config import LimitSettings, Settings
from service.main import create_app
from tests import factories
from tests.bulk.helpers import counts, ndjson, report
from tests.conftest import make_client
from tests.problems import assert_problem

DEPTH_MESSAGE = "JSON may nest arrays and objects at most 64 levels deep"


def nested(levels: int) -> bytes:
    """An object whose `name` holds arrays: `levels` levels in all."""
    return b'{"name": ' + b"[" * (levels - 1) + b"]" * (levels - 1) + b"}"


def assert_too_deep(response, message: str = DEPTH_MESSAGE) -> None:
    problem = assert_problem(response, 422, "body")
    assert [e["message"] for e in problem["errors"]] == [message]


@pytest.fixture
async def cluster(client) -> dict:
    return await factories.create(client, "/v1/clusters", factories.cluster())


ENDPOINTS = [
    ("POST", "/v1/clusters"),
    ("PATCH", "/v1/clusters/{slug}"),
    ("POST", "/v1/partnerships"),
    ("POST", "/v1/opportunities"),
    ("PUT", "/v1/target-markets/FR"),
    ("POST", "/v1/missions/import"),
    ("POST", "/v1/api-keys"),
    ("POST", "/v1/sectors"),
]


@pytest.mark.parametrize(("method", "path"), ENDPOINTS)
@pytest.mark.parametrize(
    "body",
    [nested(65), b"[" * 1_000_000, b"{" * 500_000, b'{"a": ' * 100_000, b'["x", {"y": ' * 65],
    ids=["65-levels", "a-million-arrays", "half-a-million-objects", "nested-members", "mixed"],
)
async def test_a_body_nested_too_deep_answers_422_at_body(client, cluster, method, path, body):
    response = await client.request(method, path.format(slug=cluster["slug"]), content=body, headers={"Content-Type": "application/json"})
    assert_too_deep(response)


@pytest.mark.parametrize("content_type", [None, "application/json; charset=utf-8", "application/merge-patch+json"])
async def test_every_json_media_type_is_checked(client, content_type):
    headers = {"Content-Type": content_type} if content_type else {}
    assert_too_deep(await client.post("/v1/clusters", content=nested(65), headers=headers))


async def test_64_levels_are_parsed_and_validated_as_usual(client):
    problem = assert_problem(await client.post("/v1/clusters", content=nested(64), headers={"Content-Type": "application/json"}), 422)
    assert DEPTH_MESSAGE not in str(problem) and all(e["location"].startswith("body.") for e in problem["errors"])


async def test_brackets_inside_strings_do_not_count(client):
    text = '[[[{{{"\\"' * 100  # brackets, quotes and escaped quotes in the value
    body = factories.cluster(description=text)
    created = await factories.create(client, "/v1/clusters", body)
    assert created["description"] == text


async def test_nothing_is_created(client):
    before = len((await client.get("/v1/clusters", params={"limit": 200})).json()["items"])
    body = b'{"slug": "deep", "name": "Deep", "country": "FR", "sectors": ["photonics"], "x": ' + b"[" * 70 + b"]" * 70 + b"}"
    assert_too_deep(await client.post("/v1/clusters", content=body, headers={"Content-Type": "application/json"}))
    assert len((await client.get("/v1/clusters", params={"limit": 200})).json()["items"]) == before


async def test_the_limit_is_a_setting(sessionmaker, admin_key, clock):
    app = create_app(Settings(database_url="postgresql://unused/never", limits=LimitSettings(max_json_depth=3)), sessionmaker=sessionmaker)
    app.state.clock = clock
    async with make_client(app, admin_key) as client:
        response = await client.post("/v1/clusters", content=b'{"name": [[["x"]]]}', headers={"Content-Type": "application/json"})
        assert_too_deep(response, "JSON may nest arrays and objects at most 3 levels deep")


async def test_a_bulk_row_nested_a_million_levels_is_a_rejected_row(client):
    body = ndjson(factories.cluster()) + b"[" * 1_000_000 + b"\n" + b'{"slug": ' + b"[" * 300 + b"\n"
    result = await report(client, "clusters", body, mode="partial")
    assert counts(result) == (1, 0, 0, 2)
    assert [e["line"] for e in result["errors"]] == [2, 3]

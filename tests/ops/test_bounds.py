"""Size bounds: bodies (declared or streamed), query strings, parameter counts."""

import json

import pytest

from service.config import CalendarSettings, LimitSettings, Settings
from service.main import create_app
from tests import factories
from tests.ops.test_limits import make_client
from tests.problems import assert_problem


@pytest.fixture
def app(sessionmaker):
    limits = LimitSettings(max_json_bytes=2000, max_bulk_bytes=5000, max_query_bytes=300, max_query_params=10)
    settings = Settings(
        database_url="postgresql://unused/never-connected", limits=limits, calendar=CalendarSettings(max_feed_bytes=4000)
    )
    return create_app(settings, sessionmaker=sessionmaker)


def big_cluster(size: int) -> bytes:
    body = factories.cluster() | {"description": "x" * size}
    return json.dumps(body).encode()


async def test_a_json_body_over_the_limit_answers_413_and_changes_nothing(client):
    body = big_cluster(2500)
    response = await client.post("/v1/clusters", content=body, headers={"Content-Type": "application/json"})
    problem = assert_problem(response, 413)
    assert "2000 bytes" in problem["detail"]
    slug = json.loads(body)["slug"]
    assert (await client.get(f"/v1/clusters/{slug}")).status_code == 404


async def test_a_body_under_the_limit_is_served(client):
    body = big_cluster(1000)
    response = await client.post("/v1/clusters", content=body, headers={"Content-Type": "application/json"})
    assert response.status_code == 201


async def test_a_chunked_body_without_content_length_is_cut_off_as_it_streams(client):
    sent_chunks = 0

    async def chunks():
        nonlocal sent_chunks
        for _ in range(100):  # 100 kB in 1 kB chunks, against a 2,000-byte limit
            sent_chunks += 1
            yield b" " * 1000

    response = await client.post("/v1/clusters", content=chunks(), headers={"Content-Type": "application/json"})
    assert "content-length" not in response.request.headers
    assert response.request.headers["transfer-encoding"] == "chunked"
    assert_problem(response, 413)
    assert sent_chunks <= 4, "the body was read past the limit instead of being refused as it streamed"


async def test_bulk_paths_have_their_own_larger_limit(client):
    headers = {"Content-Type": "application/x-ndjson"}
    # Over the JSON limit, under the bulk limit: passes the size check and reaches the loader,
    # which rejects the empty rows (422), rather than the size check (413).
    assert_problem(await client.post("/v1/bulk/clusters", content=b"{}\n" * 1000, headers=headers), 422)
    assert_problem(await client.post("/v1/bulk/clusters", content=b"{}\n" * 2000, headers=headers), 413)


async def test_calendar_uploads_take_up_to_the_feed_limit(client):
    headers = {"Content-Type": "text/calendar"}
    # Over the JSON limit, under the feed limit: read as a calendar (and refused as not one,
    # 422), not cut off by the size check; over the feed limit: 413.
    assert_problem(await client.post("/v1/missions/import", content=b"x" * 3000, headers=headers), 422)
    assert_problem(await client.post("/v1/missions/import", content=b"x" * 5000, headers=headers), 413)


async def test_an_overlong_query_string_answers_414(client):
    assert_problem(await client.get("/v1/clusters", params={"q": "a" * 400}), 414)
    assert (await client.get("/v1/clusters", params={"q": "a" * 250})).status_code == 200


async def test_too_many_query_parameters_answer_422(client):
    problem = assert_problem(await client.get("/v1/clusters", params=[("country", "FR")] * 11), 422, "query")
    assert "at most 10 query parameters" in problem["detail"]
    assert (await client.get("/v1/clusters", params=[("country", "FR")] * 10)).status_code == 200


async def test_default_bounds_fit_the_largest_legitimate_list_query(sessionmaker):
    app = create_app(Settings(database_url="postgresql://unused/never-connected"), sessionmaker=sessionmaker)
    # Every repeatable filter of partnerships at its 50-value maximum.
    params = [(name, f"value-{i}") for name in ("programme", "strand", "sector", "target_market", "cluster") for i in range(50)]
    async with make_client(app) as client:
        response = await client.get("/v1/partnerships", params=params)
    assert response.status_code == 422  # the values are not real, but no bound refused the request
    assert not any(e["location"] == "query" for e in response.json().get("errors", []))

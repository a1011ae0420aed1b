"""HEAD is served wherever GET is: the GET's status and headers, no body; 304 when conditional."""

import json
from pathlib import Path

import pytest
from fastapi.routing import iter_route_contexts
from starlette.routing import compile_path

from service import demo

COMMITTED = Path(__file__).parent.parent / "openapi" / "openapi.json"
# Differ from one request to the next whatever the method.
PER_REQUEST_HEADERS = {"date", "x-request-id", "ratelimit", "ratelimit-policy"}
# Their bodies change with every request (counters), and with them the length.
CHANGING_BODIES = {"/metrics"}
# No record of these exists in the demo data: HEAD must answer the GET's 404.
IDENTITY = {"Accept-Encoding": "identity"}
NOT_IN_DEMO = {
    "/v1/calendar-sources/{source}", "/v1/bulk-jobs/{job}", "/v1/webhooks/{webhook}", "/v1/webhooks/{webhook}/deliveries",
    "/v1/missions/{mission}/meeting-setup", "/v1/missions/{mission}/meeting-requests/{meeting_request}",
    "/v1/agendas/{token}.ics", "/v1/opportunities/{opportunity}/interests/{interest}",
}
# Reads whose query names something: filled in from the demo's values.
QUERIES = {
    "/v1/missions/{mission}/suggested-meetings": "?cluster={participant}",
    "/v1/saved-searches/{saved_search}/feed.atom": "?token={feed_token}",  # a feed reader's URL carries it
}


def get_paths(app) -> list[str]:
    paths = [
        context.path_format for context in iter_route_contexts(app.router.routes)
        if "GET" in (getattr(context.route, "methods", None) or ())
    ]
    return list(dict.fromkeys(paths))


@pytest.fixture
async def demo_loaded(session, clock):
    await demo.load(session, clock.today())
    await session.commit()


async def _first(client, path: str, **params) -> dict:
    response = await client.get(path, params={"limit": 1, **params})
    assert response.status_code == 200, (path, response.text)
    return response.json()["items"][0]


async def _mission_with_participants(client) -> tuple[str, str]:
    missions = (await client.get("/v1/missions", params={"limit": 200})).json()["items"]
    for mission in missions:
        participants = (await client.get(f"/v1/missions/{mission['id']}/participants")).json()["items"]
        if participants:
            return mission["id"], participants[0]["cluster"]["slug"]
    raise AssertionError("no demo mission has participants")


@pytest.fixture
async def path_values(demo_loaded, client) -> dict[str, str]:
    mission, participant = await _mission_with_participants(client)
    saved = (await client.post("/v1/saved-searches", json={"name": "Photonics", "query": {"sector": ["photonics"]}})).json()
    partnership = (await _first(client, "/v1/partnerships", cluster="opticsvalley"))["id"]
    return {
        "cluster": "opticsvalley",
        "partnership": partnership,
        "member": (await _first(client, f"/v1/partnerships/{partnership}/members"))["cluster"]["slug"],
        "participant": participant,
        "code": (await _first(client, "/v1/sectors"))["code"],
        "country": "US",
        "mission": mission,
        "agreement": (await _first(client, "/v1/agreements"))["id"],
        "opportunity": (await _first(client, "/v1/opportunities"))["id"],
        "resource": "clusters",
        "source": "00000000-0000-4000-8000-000000000000",
        "job": "00000000-0000-4000-8000-000000000000",
        "webhook": "00000000-0000-4000-8000-000000000000",
        "saved_search": saved["id"],
        "feed_token": saved["feed"]["token"],
        "meeting_request": "00000000-0000-4000-8000-000000000000",
        "token": "not-a-token",
        "interest": "00000000-0000-4000-8000-000000000000",
    }


def fill(template: str, values: dict[str, str]) -> str:
    if template.startswith("/v1/missions/{mission}/participants/"):
        values = {**values, "cluster": values["participant"]}
    if template.startswith("/v1/partnerships/{partnership}/members/"):
        values = {**values, "cluster": values["member"]}
    _, path_format, convertors = compile_path(template)
    query = QUERIES.get(template, "").format(**values)
    return path_format.format(**{name: values[name] for name in convertors}) + query


def comparable(headers) -> dict[str, str]:
    return {k: v for k, v in headers.items() if k not in PER_REQUEST_HEADERS}


async def test_head_answers_like_get_on_every_get_route(app, client, path_values):
    paths = get_paths(app)
    assert "/v1/clusters/{cluster}" in paths and "/healthz" in paths and "/docs" in paths
    for template in paths:
        path = fill(template, path_values)
        # Uncompressed, so that the GET's body length can be checked against the HEAD's header.
        get = await client.get(path, headers=IDENTITY)
        head = await client.head(path, headers=IDENTITY)
        expected = 404 if template in NOT_IN_DEMO else get.status_code
        assert get.status_code == expected and head.status_code == get.status_code, (template, get.status_code, head.status_code)
        if template not in NOT_IN_DEMO:
            assert get.status_code == 200, (template, get.text[:300])
        assert head.content == b"", template
        if template in CHANGING_BODIES:
            assert int(head.headers["content-length"]) > 0
            continue
        assert comparable(head.headers) == comparable(get.headers), template
        if "content-length" in get.headers:
            assert int(head.headers["content-length"]) == len(get.content), template

        etag = get.headers.get("etag")
        if etag:
            conditional = await client.head(path, headers={**IDENTITY, "If-None-Match": etag})
            assert conditional.status_code == 304, template
            assert conditional.content == b"" and conditional.headers["etag"] == etag, template


async def test_head_of_a_compressed_answer_has_the_compressed_length(client, path_values):
    gzip = {"Accept-Encoding": "gzip"}
    get = await client.get("/v1/clusters?limit=50", headers=gzip)
    head = await client.head("/v1/clusters?limit=50", headers=gzip)
    assert get.headers["content-encoding"] == head.headers["content-encoding"] == "gzip"
    assert head.headers["content-length"] == get.headers["content-length"]
    assert head.content == b""


async def test_head_where_get_is_not_served_is_refused_with_the_methods_allowed(client):
    response = await client.head("/v1/bulk/clusters")
    assert response.status_code == 405
    assert response.headers["allow"] == "POST"


async def test_head_is_not_a_documented_operation():
    # Clients generated from the document would get a second method per read, with
    # colliding names; HTTP already promises HEAD wherever GET is (the description says so).
    document = json.loads(COMMITTED.read_text(encoding="utf-8"))
    assert not [path for path, operations in document["paths"].items() if "head" in operations]
    assert "HEAD" in document["info"]["description"]


async def test_head_sends_no_body_bytes_to_the_server(app, path_values):
    # HTTP clients drop a HEAD's body themselves, so look at what the app hands the server.
    sent = []

    async def receive():
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message):
        sent.append(message)

    scope = {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "HEAD", "scheme": "http",
        "path": "/v1/clusters/opticsvalley", "raw_path": b"/v1/clusters/opticsvalley", "root_path": "",
        "query_string": b"", "headers": [(b"host", b"test")], "client": ("127.0.0.1", 1), "server": ("test", 80),
    }
    await app(scope, receive, send)
    start, *bodies = sent
    assert start["status"] == 200 and int(dict(start["headers"])[b"content-length"]) > 0
    assert bodies and all(message["body"] == b"" for message in bodies)
    assert not bodies[-1].get("more_body", False)

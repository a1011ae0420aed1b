"""Routing by section (service/ops/dispatch.py): the route that answers is the one the whole
router would have chosen, while a request tries only its section's routers."""

import httpx
import pytest
from fastapi import APIRouter, FastAPI
from starlette.responses import PlainTextResponse
from starlette.routing import Mount

from service.config import Settings
from service.main import create_app
from service.ops import dispatch
from service.ops.dispatch import SectionRouting


def _app() -> FastAPI:
    feeds, missions, anywhere, clusters = (APIRouter(prefix="/missions"), APIRouter(prefix="/missions"),
                                            APIRouter(), APIRouter(prefix="/clusters"))

    @feeds.get("/{mission}.ics")
    async def feed(mission: str) -> str:
        return f"feed {mission}"

    @missions.get("/{mission}")
    async def read(mission: str) -> str:
        return f"mission {mission}"

    @missions.delete("/{mission}")
    async def delete(mission: str) -> str:
        return f"deleted {mission}"

    @anywhere.get("/{version}/probe")
    async def probe(version: str) -> str:
        return f"probe {version}"

    @anywhere.get("/{version}/clusters/{cluster}/legacy")
    async def legacy(version: str, cluster: str) -> str:
        return f"legacy {cluster}"

    @anywhere.get("/assets/index")
    async def assets_index() -> str:
        return "index"

    @clusters.get("")
    async def clusters_list() -> str:
        return "clusters"

    app = FastAPI()
    app.include_router(feeds, prefix="/v1")
    app.include_router(missions, prefix="/v1")
    app.include_router(anywhere)
    app.include_router(clusters, prefix="/v1")
    app.router.routes.append(Mount("/assets", routes=[], app=lambda scope, receive, send: PlainTextResponse("asset")(scope, receive, send)))
    dispatch.install(app.router)
    return app


async def _get(app: FastAPI, method: str, path: str) -> httpx.Response:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as client:
        return await client.request(method, path)


@pytest.mark.parametrize(("method", "path", "status", "body"), [
    ("GET", "/v1/missions/m1.ics", 200, "feed m1"),  # the earlier router of the section wins
    ("GET", "/v1/missions/m1", 200, "mission m1"),
    ("DELETE", "/v1/missions/m1", 200, "deleted m1"),
    ("GET", "/v1/clusters", 200, "clusters"),
    ("GET", "/v1/probe", 200, "probe v1"),  # a parameter in the first segments: tried everywhere
    ("GET", "/v9/probe", 200, "probe v9"),
    ("GET", "/v1/clusters/c1/legacy", 200, "legacy c1"),  # ...also in a section other routes serve
    ("GET", "/assets/a/b.css", 200, "asset"),  # a mount matches by prefix, below its section
    ("GET", "/assets/index", 200, "index"),
    ("GET", "/assets/index/b.css", 200, "asset"),  # ...also in a section other routes serve
    ("POST", "/v1/missions/m1", 405, None),  # a partial match, as in routing
    ("GET", "/v1/nothing", 404, None),
    ("GET", "/elsewhere/entirely", 404, None),
])
async def test_the_route_the_whole_router_would_choose_answers(method, path, status, body):
    response = await _get(_app(), method, path)
    assert response.status_code == status
    if body is not None:
        assert response.json() == body if response.headers["content-type"] == "application/json" else response.text == body


async def test_a_trailing_slash_is_redirected_as_before():
    response = await _get(_app(), "GET", "/v1/clusters/")
    assert response.status_code == 307 and response.headers["location"] == "http://test/v1/clusters"


def test_a_request_tries_only_its_sections_routers():
    app = create_app(Settings(database_url="postgresql://nobody@127.0.0.1:1/none"))
    routing = app.router.middleware_stack
    assert isinstance(routing, SectionRouting)
    routing._build()
    everything = {dispatch.section_of(t) for t in dispatch.templates_of(app.router.routes)}
    narrowed = {dispatch.section_of(t) for t in dispatch.templates_of(routing._by_section["/v1/opportunities"].routes)}
    assert "/v1/api-keys" in everything and "/v1/api-keys" not in narrowed
    assert "/v1/opportunities" in narrowed

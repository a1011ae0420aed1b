"""Routing by section: a request tries only the routes that serve its first two path
segments (/v1/opportunities), in the app's order, instead of every route of the app.

FastAPI tries each included router in turn, and each of their routes' patterns, until one
matches: profiled with py-spy under load, that walk was about a tenth of a read by id
(eighteen routers before the opportunities'). Here the routers a section narrows to are
tried by FastAPI itself, in the same order, so the route that wins is the one it would
have chosen (the first full match, else a partial one: 405); a path whose section no route
names goes through the whole router (404, trailing-slash redirects), as before.
"""

import copy
from collections.abc import Iterable

from fastapi.routing import APIRouter
from starlette._utils import get_route_path  # defined there; starlette.routing only imports it
from starlette.routing import BaseRoute
from starlette.types import Receive, Scope, Send


def section_of(path: str) -> str:
    """The first two segments of a path (/v1/clusters): what narrows the routes to try."""
    return "/".join(path.split("/", 3)[:3])


def templates_of(routes: Iterable[BaseRoute]) -> list[str]:
    """The path templates the routes serve, included routers flattened, in order."""
    try:  # FastAPI versions that nest included routers flatten them here
        from fastapi.routing import iter_route_contexts

        return [context.path_format or "" for context in iter_route_contexts(list(routes))]
    except ImportError:
        return [route.path for route in routes if hasattr(route, "path")]


def _sections(route: BaseRoute) -> set[str] | None:
    """The sections a top-level route serves; None when it may serve any path: a template
    with a parameter in its first two segments (a mount's is its prefix and {path})."""
    sections = {section_of(t) for t in templates_of([route]) if t}
    return None if not sections or any("{" in s for s in sections) else sections


class SectionRouting:
    """The app router's dispatch, one narrowed copy of the router per section."""

    def __init__(self, router: APIRouter) -> None:
        self.router = router
        self._by_section: dict[str, APIRouter] = {}
        self._built_for = -1  # how many routes the table was built for

    def _build(self) -> None:
        routes = self.router.routes
        served = [(route, _sections(route)) for route in routes]
        self._by_section = {}
        for section in set().union(*(s for _, s in served if s is not None)):
            narrowed = copy.copy(self.router)
            narrowed.routes = [route for route, s in served if s is None or section in s]
            self._by_section[section] = narrowed
        self._built_for = len(routes)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.router.app(scope, receive, send)
            return
        if self._built_for != len(self.router.routes):
            self._build()
        router = self._by_section.get(section_of(get_route_path(scope)), self.router)
        scope.setdefault("router", self.router)  # url_for and friends see every route
        await router.app(scope, receive, send)


def install(router: APIRouter) -> None:
    """Route the app's requests by section. Left as it is when the router has middleware
    of its own (the dispatch replaces the innermost app, which that middleware wraps)."""
    if router.middleware_stack == router.app:
        router.middleware_stack = SectionRouting(router)

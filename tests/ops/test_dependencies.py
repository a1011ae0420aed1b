"""No dependency of any route runs on a worker thread: FastAPI calls a plain `def` dependency
through its thread pool, two thread switches on every request that uses it."""

import inspect

from fastapi.routing import APIRoute

from service.config import Settings
from service.main import create_app


def _calls(dependant):
    for sub in dependant.dependencies:
        yield sub.call
        yield from _calls(sub)


def test_every_dependency_is_a_coroutine():
    app = create_app(Settings(database_url="postgresql://nobody@127.0.0.1:1/none"))
    routes = [r for r in app.routes if isinstance(r, APIRoute)]
    try:
        from fastapi.routing import iter_route_contexts

        routes += [c.original_route for c in iter_route_contexts(app.router.routes) if isinstance(c.original_route, APIRoute)]
    except ImportError:
        pass
    assert len(routes) > 50
    blocking = {
        f"{call.__module__}.{call.__qualname__}"
        for route in routes for call in _calls(route.dependant)
        if call is not None and not (inspect.iscoroutinefunction(call) or inspect.isasyncgenfunction(call))
        and not inspect.isclass(call)
    }
    assert blocking == set()

"""The outermost middleware: a request id for every request, the access log and HTTP metrics.

A plain ASGI middleware (not BaseHTTPMiddleware) so that it neither buffers streamed bodies
nor runs the app in another task, which would hide the log context from the handlers.
"""

import asyncio
import logging
import re
import time
import uuid
from typing import Any

from starlette._utils import get_route_path  # defined there; starlette.routing only imports it
from starlette.datastructures import Headers, MutableHeaders
from starlette.requests import Request
from starlette.routing import Router, compile_path
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from service.errors import ServiceUnavailable, error_response
from service.ops import metrics
from service.ops.dispatch import section_of, templates_of
from service.ops.logging import request_context

access_log = logging.getLogger("partnerships.access")

REQUEST_ID_HEADER = "X-Request-ID"
# Visible ASCII only and bounded: the id is echoed in headers and logs, so it must not be
# able to carry line breaks, control characters or a payload.
VALID_REQUEST_ID = re.compile(r"[!-~]{1,128}")
# Probes and scrapes arrive every few seconds; their successes are logged at DEBUG only.
QUIET_PATHS = frozenset({"/healthz", "/readyz", "/metrics"})


def request_id_from(headers: Headers) -> str:
    incoming = headers.get(REQUEST_ID_HEADER)
    if incoming and VALID_REQUEST_ID.fullmatch(incoming):
        return incoming
    return str(uuid.uuid4())


class RouteTemplates:
    """Maps a request path to the template of the route that serves it, e.g.
    /v1/clusters/{cluster}, from one flat table of the app's routes built on first use.

    Matching here (rather than reading scope["route"]) labels requests rejected before
    routing (429, 413, 414) like the others, and does not depend on how a FastAPI version
    nests included routers: recent ones keep them nested, with router-local route paths.
    """

    def __init__(self, router: Router) -> None:
        self.router = router
        self._table: _Table | None = None

    def _build(self) -> "_Table":
        return _Table(dict.fromkeys(t for t in templates_of(self.router.routes) if t))

    def __call__(self, scope: Scope) -> str:
        if self._table is None:
            self._table = self._build()
        return self._table.template_of(get_route_path(scope))


class _Table:
    """Templates looked up without a walk of them all: paths without parameters by a dict,
    the others only among the templates of the same section, in the routes' order (the first
    match wins, as in routing)."""

    def __init__(self, templates: dict[str, None]) -> None:
        self.exact = {t: t for t in templates if "{" not in t}
        patterns = [(i, compile_path(t)[0], t) for i, t in enumerate(templates) if "{" in t]
        anywhere = [p for p in patterns if "{" in section_of(p[2])]
        self.sections: dict[str, list[tuple[re.Pattern[str], str]]] = {}
        for section in {section_of(t) for _, _, t in patterns} - {section_of(t) for _, _, t in anywhere}:
            found = sorted([p for p in patterns if section_of(p[2]) == section] + anywhere, key=lambda p: p[0])
            self.sections[section] = [(pattern, template) for _, pattern, template in found]
        self.anywhere = [(pattern, template) for _, pattern, template in anywhere]

    def template_of(self, path: str) -> str:
        exact = self.exact.get(path)
        if exact is not None:
            return exact
        for pattern, template in self.sections.get(section_of(path), self.anywhere):
            if pattern.match(path):
                return template
        return metrics.UNMATCHED


class RequestContextMiddleware:
    def __init__(self, app: ASGIApp, router: Router) -> None:
        self.app = app
        self.route_template = RouteTemplates(router)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = request_id_from(Headers(scope=scope))
        scope.setdefault("state", {})["request_id"] = request_id
        client = scope.get("client")
        context = {
            "request_id": request_id,
            "method": scope["method"],
            "path": scope["path"],
            "client": client[0] if client else None,
        }
        token = request_context.set(context)
        status: int | None = None

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                MutableHeaders(scope=message)[REQUEST_ID_HEADER] = request_id
            await send(message)

        started = time.perf_counter()
        try:
            await self.app(scope, receive, send_with_id)
        except asyncio.CancelledError:
            # The server cancels requests still running when SERVER__GRACEFUL_TIMEOUT ends,
            # and would then answer a bare 500: tell the client to retry elsewhere instead.
            if status is None:
                shutting_down = ServiceUnavailable(
                    "The server is shutting down; retry the request.",
                    headers={"Retry-After": "1", "Connection": "close"},
                )
                await error_response(Request(scope), shutting_down)(scope, receive, send_with_id)
            self._finish(scope, context, status or 503, started)
            raise
        except BaseException:
            # Starlette's outermost middleware answers 500 and logs the exception after
            # this one: the context stays set (the request's task ends soon anyway) so
            # that log line carries the request id too.
            self._finish(scope, context, status or 500, started)
            raise
        # 499 (as nginx logs it): the client went away before any answer was sent.
        self._finish(scope, context, status or 499, started)
        request_context.reset(token)

    def _finish(self, scope: Scope, context: dict[str, Any], status: int, started: float) -> None:
        seconds = time.perf_counter() - started
        metrics.observe_request(scope["method"], self.route_template(scope), status, seconds)
        self._log(context, status, seconds)

    @staticmethod
    def _log(context: dict[str, Any], status: int, seconds: float) -> None:
        if status >= 500:
            level = logging.ERROR if status != 503 else logging.WARNING
        elif context["path"] in QUIET_PATHS and status < 400:
            level = logging.DEBUG
        else:
            level = logging.INFO
        duration_ms = round(seconds * 1000, 1)
        access_log.log(
            level,
            "%s %s %d %.1fms", context["method"], context["path"], status, duration_ms,
            extra={"status": status, "duration_ms": duration_ms},
        )

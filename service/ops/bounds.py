"""Size bounds on what a request may carry: its query string, its body, and how deeply a
JSON body nests.

Bodies are counted as they stream in, so a client sending chunked data without
Content-Length is stopped at the limit and nothing is ever buffered whole here. JSON bodies
(already held whole by the endpoint that parses them) are checked for depth first.
"""

from starlette.datastructures import Headers
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from service.config import LimitSettings
from service.errors import FieldError, InvalidInput, PayloadTooLarge, ServiceError, UriTooLong, error_response
from service.kit.json_depth import nests_deeper_than

BULK_PREFIX = "/v1/bulk/"
# Calendar uploads have their own limit (CALENDAR__MAX_FEED_BYTES, the same as for fetched
# feeds): a feed larger than a JSON body is ordinary, and its parse is bounded elsewhere.
FEED_IMPORT_PATH = "/v1/missions/import"


async def send_problem(scope: Scope, receive: Receive, send: Send, error: ServiceError) -> None:
    await error_response(Request(scope), error)(scope, receive, send)


class QueryBoundsMiddleware:
    """Over-long query strings answer 414, too many parameters 422, before anything parses them."""

    def __init__(self, app: ASGIApp, limits: LimitSettings) -> None:
        self.app = app
        self.max_bytes = limits.max_query_bytes
        self.max_params = limits.max_query_params

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            error = self._check(scope.get("query_string", b""))
            if error is not None:
                await send_problem(scope, receive, send, error)
                return
        await self.app(scope, receive, send)

    def _check(self, query: bytes) -> ServiceError | None:
        if len(query) > self.max_bytes:
            return UriTooLong(f"The query string is longer than {self.max_bytes} bytes.")
        if query.count(b"&") >= self.max_params:  # cheap upper bound first
            count = sum(1 for part in query.split(b"&") if part)
            if count > self.max_params:
                message = f"at most {self.max_params} query parameters are accepted"
                return InvalidInput(message, errors=[FieldError(location="query", message=message)])
        return None


class _BodyTooLarge(Exception):
    pass


class BodySizeLimitMiddleware:
    """Bodies over the limit (bulk paths and calendar uploads have their own) answer 413,
    declared or not."""

    def __init__(self, app: ASGIApp, limits: LimitSettings, max_feed_bytes: int) -> None:
        self.app = app
        self.max_json_bytes = limits.max_json_bytes
        self.max_bulk_bytes = limits.max_bulk_bytes
        self.max_feed_bytes = max_feed_bytes

    def limit_for(self, path: str) -> int:
        if path.startswith(BULK_PREFIX):
            return self.max_bulk_bytes
        return self.max_feed_bytes if path == FEED_IMPORT_PATH else self.max_json_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.limit_for(scope["path"])
        too_large = PayloadTooLarge(f"The request body is larger than {limit} bytes.")
        declared = Headers(scope=scope).get("content-length")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            await send_problem(scope, receive, send, too_large)
            return

        received = 0
        exceeded = response_started = False

        async def counting_receive() -> Message:
            nonlocal received, exceeded
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    exceeded = True
                    raise _BodyTooLarge
            return message

        async def guarded_send(message: Message) -> None:
            nonlocal response_started
            if exceeded:
                # The app's own answer to the interrupted body (FastAPI makes it a 400) is
                # dropped; the 413 below replaces it.
                return
            if message["type"] == "http.response.start":
                response_started = True
            await send(message)

        try:
            await self.app(scope, counting_receive, guarded_send)
        except Exception:
            if not exceeded:
                raise
        if exceeded and not response_started:
            await send_problem(scope, receive, send, too_large)


def _is_json(content_type: str | None) -> bool:
    # Endpoints parse a body sent without Content-Type as JSON too.
    if not content_type:
        return True
    media_type = content_type.split(";")[0].strip().lower()
    return media_type == "application/json" or media_type.endswith("+json")


class JsonDepthMiddleware:
    """JSON bodies nesting deeper than the limit answer 422 (location `body`) before any
    parser recurses into them. Bulk loads are NDJSON, read row by row with a parser that bounds
    its own recursion."""

    def __init__(self, app: ASGIApp, limits: LimitSettings) -> None:
        self.app = app
        self.max_depth = limits.max_json_depth

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] != "http"
            or scope["method"] in ("GET", "HEAD", "OPTIONS", "DELETE")
            or scope["path"].startswith(BULK_PREFIX)
            or not _is_json(Headers(scope=scope).get("content-type"))
        ):
            await self.app(scope, receive, send)
            return
        body = await read_body(receive)
        if body is None:
            return  # the client went away
        if nests_deeper_than(body, self.max_depth):
            message = f"JSON may nest arrays and objects at most {self.max_depth} levels deep"
            await send_problem(scope, receive, send, InvalidInput(message, errors=[FieldError(location="body", message=message)]))
            return
        await self.app(scope, replay_body(body, receive), send)


async def read_body(receive: Receive) -> bytes | None:
    """The whole body, or None when the client went away first."""
    chunks = []
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return None
        chunks.append(message.get("body", b""))
        if not message.get("more_body"):
            return b"".join(chunks)


def replay_body(body: bytes, receive: Receive) -> Receive:
    """A receive that gives body (already read) to the app, then whatever the client sends."""
    sent = False

    async def replayed() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()  # a disconnect, later

    return replayed

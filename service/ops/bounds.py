"""Size bounds on what a request may carry: its query string and its body.

Bodies are counted as they stream in, so a client sending chunked data without
Content-Length is stopped at the limit and nothing is ever buffered whole here.
"""

from starlette.datastructures import Headers
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from service.config import LimitSettings
from service.errors import InvalidInput, PayloadTooLarge, ServiceError, UriTooLong, error_response
from service.kit.problem import FieldError

BULK_PREFIX = "/v1/bulk/"


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
    """Bodies over the limit (bulk paths have their own) answer 413, declared or not."""

    def __init__(self, app: ASGIApp, limits: LimitSettings) -> None:
        self.app = app
        self.max_json_bytes = limits.max_json_bytes
        self.max_bulk_bytes = limits.max_bulk_bytes

    def limit_for(self, path: str) -> int:
        return self.max_bulk_bytes if path.startswith(BULK_PREFIX) else self.max_json_bytes

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

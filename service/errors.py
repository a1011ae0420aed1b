"""Errors as RFC 9457 problem details.

Services raise ServiceError subclasses; the handlers in `service.ops.error_handlers` turn every
failure, validation errors and database errors included, into application/problem+json. This
module is the lowest layer of that: the problem document, one table of the kinds of error
(status, title, type), the exceptions, and the response. It imports nothing of the service, so
that anything (kit included) may raise its errors without an import cycle.
"""

import inspect
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from fastapi import Request
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, Field
from pydantic.json_schema import SkipJsonSchema
from pydantic_core import ErrorDetails

PROBLEM_JSON = "application/problem+json"


class FieldError(BaseModel):
    location: str = Field(description="Where the error is, e.g. `body.country` or `query.limit`.")
    message: str


def _absent_when_unknown(description: str) -> Any:
    """A member left out of the document when there is nothing to say (never sent as null):
    optional, and typed as what it is when present."""

    def schema(field: dict[str, Any]) -> None:
        field.pop("default", None)

    return Field(None, description=description, json_schema_extra=schema)


class Problem(BaseModel):
    type: str = Field(description="A URI reference naming the kind of problem.")
    title: str
    status: int
    detail: str | SkipJsonSchema[None] = _absent_when_unknown("What went wrong, for a person to read.")
    instance: str | SkipJsonSchema[None] = _absent_when_unknown("The path of the request that failed.")
    errors: list[FieldError] | SkipJsonSchema[None] = _absent_when_unknown("Field errors, for invalid input.")
    request_id: str | SkipJsonSchema[None] = _absent_when_unknown(
        "The request's `X-Request-ID`: quote it when reporting a problem."
    )


def field_errors(errors: Sequence[ErrorDetails], prefix: tuple[str | int, ...] = ()) -> list[FieldError]:
    """FieldErrors from pydantic's error list. The offending input is deliberately not
    echoed: it may be huge or binary."""
    return [
        FieldError(
            location=".".join(str(part) for part in (*prefix, *e["loc"])),
            message=e["msg"].removeprefix("Value error, "),
        )
        for e in errors
    ]


@dataclass(frozen=True)
class Kind:
    """A kind of problem: its status, its title, and the slug of its type URI."""

    status: int
    title: str
    slug: str


# Every kind of problem the service answers, each title written once.
INTERNAL = Kind(500, "Internal error", "internal")
BAD_REQUEST = Kind(400, "Bad request", "bad-request")
MALFORMED_BODY = Kind(400, "Malformed body", "malformed-body")
BODY_INTERRUPTED = Kind(400, "Body interrupted", "body-interrupted")
UNAUTHORIZED = Kind(401, "Authentication required", "unauthorized")
FORBIDDEN = Kind(403, "Forbidden", "forbidden")
NOT_FOUND = Kind(404, "Not found", "not-found")
METHOD_NOT_ALLOWED = Kind(405, "Method not allowed", "method-not-allowed")
NOT_ACCEPTABLE = Kind(406, "Not acceptable", "not-acceptable")
REQUEST_TIMEOUT = Kind(408, "Request timeout", "request-timeout")
CONFLICT = Kind(409, "Conflict", "conflict")
PRECONDITION_FAILED = Kind(412, "Precondition failed", "precondition-failed")
PAYLOAD_TOO_LARGE = Kind(413, "Payload too large", "payload-too-large")
URI_TOO_LONG = Kind(414, "URI too long", "uri-too-long")
UNSUPPORTED_MEDIA_TYPE = Kind(415, "Unsupported media type", "unsupported-media-type")
INVALID_INPUT = Kind(422, "Invalid input", "invalid-input")
ROWS_REJECTED = Kind(422, "Rows rejected", "rows-rejected")
PRECONDITION_REQUIRED = Kind(428, "Precondition required", "precondition-required")
TOO_MANY_REQUESTS = Kind(429, "Too many requests", "too-many-requests")
UNAVAILABLE = Kind(503, "Service unavailable", "unavailable")
# Starlette's own HTTP errors of any other status.
REQUEST_FAILED = Kind(0, "Request failed", "request-failed")


class ServiceError(Exception):
    kind = INTERNAL

    def __init_subclass__(cls, **kwargs: Any) -> None:
        # status, title and slug come from the kind: set on their own they would be answered
        # as an internal error, so such a class fails when it is defined, not when it is raised.
        super().__init_subclass__(**kwargs)
        if {"status", "title", "slug"} & set(vars(cls)):
            raise TypeError(f"{cls.__name__}: give it a kind from service.errors, not status, title or slug")

    def __init__(
        self,
        detail: str | None = None,
        *,
        errors: list[FieldError] | None = None,
        headers: dict[str, str] | None = None,
    ):
        super().__init__(detail or self.title)
        self.detail = detail
        self.errors = errors
        self.headers = headers or {}

    # Read by the handlers and by the CLI; the kind holds them.
    @property
    def status(self) -> int:
        return self.kind.status

    @property
    def title(self) -> str:
        return self.kind.title

    @property
    def slug(self) -> str:
        return self.kind.slug


class InvalidInput(ServiceError):
    kind = INVALID_INPUT

    @classmethod
    def field(cls, location: str, message: str) -> "InvalidInput":
        return cls(message, errors=[FieldError(location=location, message=message)])


class Unauthorized(ServiceError):
    kind = UNAUTHORIZED


class Forbidden(ServiceError):
    kind = FORBIDDEN


class NotFound(ServiceError):
    kind = NOT_FOUND


class NotAcceptable(ServiceError):
    kind = NOT_ACCEPTABLE


class Conflict(ServiceError):
    kind = CONFLICT


class PreconditionFailed(ServiceError):
    kind = PRECONDITION_FAILED


class PayloadTooLarge(ServiceError):
    kind = PAYLOAD_TOO_LARGE


class UriTooLong(ServiceError):
    kind = URI_TOO_LONG


class UnsupportedMediaType(ServiceError):
    kind = UNSUPPORTED_MEDIA_TYPE


class PreconditionRequired(ServiceError):
    kind = PRECONDITION_REQUIRED


class TooManyRequests(ServiceError):
    kind = TOO_MANY_REQUESTS


class ServiceUnavailable(ServiceError):
    kind = UNAVAILABLE


def problem_of(
    kind: Kind,
    detail: str | None = None,
    *,
    status: int | None = None,
    instance: str | None = None,
    errors: list[FieldError] | None = None,
    request_id: str | None = None,
) -> dict[str, Any]:
    """The problem document, as sent and as stored (a failed bulk job keeps one)."""
    body = Problem(
        type=f"/problems/{kind.slug}",
        title=kind.title,
        status=status or kind.status,
        detail=detail,
        instance=instance,
        errors=errors,
        request_id=request_id,
    )
    return body.model_dump(mode="json", exclude_none=True)


def problem_response(
    request: Request,
    kind: Kind,
    detail: str | None = None,
    errors: list[FieldError] | None = None,
    headers: Mapping[str, str] | None = None,
    status: int | None = None,
) -> JSONResponse:
    """The answer for a problem of this kind (status: the actual one, for REQUEST_FAILED)."""
    request_id = getattr(request.state, "request_id", None)
    if request_id:
        # Set here as well as by the request middleware: a 500 is sent by Starlette's
        # outermost middleware, past the one that stamps every other response.
        headers = {**(headers or {}), "X-Request-ID": request_id}
    return JSONResponse(
        problem_of(kind, detail, status=status, instance=request.url.path, errors=errors, request_id=request_id),
        status_code=status or kind.status,
        media_type=PROBLEM_JSON,
        headers=headers,
    )


def unavailable(request: Request, detail: str, retry_after: int) -> JSONResponse:
    """503: the database (or its pool) cannot serve now; the client may retry after a pause."""
    return problem_response(request, UNAVAILABLE, detail, headers={"Retry-After": str(retry_after)})


def error_response(request: Request, exc: ServiceError) -> JSONResponse:
    return problem_response(request, exc.kind, exc.detail, exc.errors, exc.headers)


_Handler = Callable[[Request, Exception], Response | Awaitable[Response]]


async def handled_response(request: Request, exc: Exception) -> Response:
    """The answer the app's handlers give exc, for middleware that talks to the database
    outside them: a database outage answers 503 there too, not 500."""
    handlers: dict[type[BaseException], _Handler] = request.app.exception_handlers
    handler = next(handlers[cls] for cls in type(exc).__mro__ if cls in handlers)
    # Starlette takes plain and async handlers alike.
    response = handler(request, exc)
    return await response if inspect.isawaitable(response) else response

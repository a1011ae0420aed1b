"""Errors as RFC 9457 problem details.

Services raise ServiceError subclasses; one set of handlers turns every failure, validation
errors and database errors included, into application/problem+json. Nothing reaches the
client as an HTML page or a bare 500.
"""

import logging
import re

import asyncpg
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import ClientDisconnect
from starlette.routing import compile_path

from service.kit.problem import FieldError, Problem, field_errors

log = logging.getLogger(__name__)

PROBLEM_JSON = "application/problem+json"
CLIENT_CLOSED_REQUEST = 499  # nginx's status for a request its client abandoned


class ServiceError(Exception):
    status = 500
    title = "Internal error"
    slug = "internal"

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


class InvalidInput(ServiceError):
    status, title, slug = 422, "Invalid input", "invalid-input"

    @classmethod
    def field(cls, location: str, message: str) -> "InvalidInput":
        return cls(message, errors=[FieldError(location=location, message=message)])


class Unauthorized(ServiceError):
    status, title, slug = 401, "Authentication required", "unauthorized"


class Forbidden(ServiceError):
    status, title, slug = 403, "Forbidden", "forbidden"


class NotFound(ServiceError):
    status, title, slug = 404, "Not found", "not-found"


class Conflict(ServiceError):
    status, title, slug = 409, "Conflict", "conflict"


class PreconditionFailed(ServiceError):
    status, title, slug = 412, "Precondition failed", "precondition-failed"


class PayloadTooLarge(ServiceError):
    status, title, slug = 413, "Payload too large", "payload-too-large"


class UriTooLong(ServiceError):
    status, title, slug = 414, "URI too long", "uri-too-long"


class UnsupportedMediaType(ServiceError):
    status, title, slug = 415, "Unsupported media type", "unsupported-media-type"


class PreconditionRequired(ServiceError):
    status, title, slug = 428, "Precondition required", "precondition-required"


class TooManyRequests(ServiceError):
    status, title, slug = 429, "Too many requests", "too-many-requests"


class ServiceUnavailable(ServiceError):
    status, title, slug = 503, "Service unavailable", "unavailable"


def problem_response(
    request: Request,
    status: int,
    title: str,
    slug: str,
    detail: str | None = None,
    errors: list[FieldError] | None = None,
    headers: dict[str, str] | None = None,
) -> JSONResponse:
    request_id = getattr(request.state, "request_id", None)
    body = Problem(
        type=f"/problems/{slug}",
        title=title,
        status=status,
        detail=detail,
        instance=request.url.path,
        errors=errors,
        request_id=request_id,
    )
    if request_id:
        # Set here as well as by the request middleware: a 500 is sent by Starlette's
        # outermost middleware, past the one that stamps every other response.
        headers = {**(headers or {}), "X-Request-ID": request_id}
    return JSONResponse(
        body.model_dump(mode="json", exclude_none=True),
        status_code=status,
        media_type=PROBLEM_JSON,
        headers=headers,
    )


def error_response(request: Request, exc: ServiceError) -> JSONResponse:
    return problem_response(request, exc.status, exc.title, exc.slug, exc.detail, exc.errors, exc.headers)


async def handled_response(request: Request, exc: Exception) -> Response:
    """The answer the app's handlers below give exc, for middleware that talks to the database
    outside them: a database outage answers 503 there too, not 500."""
    handlers = request.app.exception_handlers
    handler = next(handlers[cls] for cls in type(exc).__mro__ if cls in handlers)
    return await handler(request, exc)


# PostgreSQL SQLSTATE codes that mean "the client sent something we cannot store".
_SQLSTATE_PROBLEMS: dict[str, tuple[int, str, str, str]] = {
    "23505": (409, "Conflict", "conflict", "A record with this natural key already exists."),
    "23503": (409, "Conflict", "conflict", "The record is referenced by or refers to another."),
    "23514": (422, "Invalid input", "invalid-input", "A value breaks a rule of the data."),
    "23502": (422, "Invalid input", "invalid-input", "A required value is missing."),
    "22001": (422, "Invalid input", "invalid-input", "A value is too long."),
    "22003": (422, "Invalid input", "invalid-input", "A number is out of range."),
    "22021": (422, "Invalid input", "invalid-input", "Text is not valid UTF-8."),
    "22P05": (422, "Invalid input", "invalid-input", "Text holds a character PostgreSQL cannot store."),
    "57014": (503, "Service unavailable", "unavailable", "The query took too long; try again."),
    "53300": (503, "Service unavailable", "unavailable", "The database is saturated; try again."),
    "57P01": (503, "Service unavailable", "unavailable", "The database is restarting; try again."),
    "57P02": (503, "Service unavailable", "unavailable", "The database is restarting; try again."),
    "57P03": (503, "Service unavailable", "unavailable", "The database is starting or stopping; try again."),
    "53000": (503, "Service unavailable", "unavailable", "The database is out of resources; try again."),
    "53200": (503, "Service unavailable", "unavailable", "The database is out of memory; try again."),
    "55P03": (503, "Service unavailable", "unavailable", "A lock could not be taken in time; try again."),
    # A write that reached a read-only server: a replica, or a primary mid-failover.
    "25006": (503, "Service unavailable", "unavailable", "The database is read-only right now; try again."),
}


def _sqlstate(exc: DBAPIError) -> str | None:
    orig = exc.orig
    for candidate in (orig, getattr(orig, "__cause__", None)):
        code = getattr(candidate, "sqlstate", None) or getattr(candidate, "pgcode", None)
        if code:
            return code
    return None


def allowed_methods(request: Request) -> str:
    """Every method served at this path. The router's own 405 names only the first route
    that matched the path, though GET, PATCH and DELETE are separate routes; the OpenAPI
    document knows them all."""
    app = request.app
    if not hasattr(app.state, "methods_by_path"):
        app.state.methods_by_path = [
            (
                compile_path(template)[0],
                len(re.sub(r"\{[^}]*\}", "", template)),
                {m.upper() for m in operations} | ({"HEAD"} if "get" in operations else set()),
            )
            for template, operations in app.openapi()["paths"].items()
        ]
    path = request.scope["path"]
    matching = [(literal, m) for pattern, literal, m in app.state.methods_by_path if pattern.match(path)]
    # `/missions/{mission}.ics` beats `/missions/{mission}` for `/missions/x.ics`.
    most_literal = max((literal for literal, _ in matching), default=0)
    return ", ".join(sorted(set().union(*(m for literal, m in matching if literal == most_literal))))


JSON = "application/json"


def _sent_as_json(content_type: str) -> bool:
    # What FastAPI parses as JSON: application/json and the application/*+json family.
    media = content_type.split(";", 1)[0].strip().lower()
    return media == JSON or (media.startswith("application/") and media.endswith("+json"))


def unsupported_body(request: Request) -> UnsupportedMediaType | None:
    """A body sent to a JSON operation in another media type (a form, text, none named).

    FastAPI hands such a body to validation as bytes, which reads as "invalid input" with no
    hint of the real mistake; the client is told the media type the operation reads."""
    route = request.scope.get("route")
    if getattr(route, "body_field", None) is None:
        return None  # no JSON body here (the bulk and calendar uploads read their own)
    content_type = request.headers.get("content-type")
    if content_type is None and request.headers.get("content-length", "0") == "0" and "transfer-encoding" not in request.headers:
        return None  # no body at all: the missing body is the problem (422)
    if content_type is not None and _sent_as_json(content_type):
        return None
    return UnsupportedMediaType(
        f"Send the body as {JSON} (Content-Type: {JSON}), not {content_type or 'without a Content-Type'}.",
        headers={"Accept": JSON},
    )


def register_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(ServiceError)
    async def on_service_error(request: Request, exc: ServiceError):
        return error_response(request, exc)

    @app.exception_handler(RequestValidationError)
    async def on_validation_error(request: Request, exc: RequestValidationError):
        if (unsupported := unsupported_body(request)) is not None:
            return error_response(request, unsupported)
        errors = field_errors(list(exc.errors()))
        return problem_response(
            request, 422, "Invalid input", "invalid-input",
            "The request has invalid or unknown fields.", errors,
        )

    @app.exception_handler(StarletteHTTPException)
    async def on_http_error(request: Request, exc: StarletteHTTPException):
        titles = {
            400: "Bad request", 404: "Not found", 405: "Method not allowed", 406: "Not acceptable",
            413: "Payload too large", 414: "URI too long", 429: "Too many requests",
        }
        title = titles.get(exc.status_code, "Request failed")
        slug = title.lower().replace(" ", "-")
        headers = exc.headers
        if exc.status_code == 405:
            headers = {**(headers or {}), "Allow": allowed_methods(request)}
        return problem_response(request, exc.status_code, title, slug, str(exc.detail), headers=headers)

    @app.exception_handler(ClientDisconnect)
    async def on_client_gone(request: Request, exc: ClientDisconnect):
        # The client went away while its body was being read: not an error of ours, and
        # nobody is left to answer. The access log records 499, as nginx does.
        log.info("the client disconnected before sending its whole request")
        return Response(status_code=CLIENT_CLOSED_REQUEST)

    @app.exception_handler(PoolTimeout)
    async def on_pool_timeout(request: Request, exc: PoolTimeout):
        return problem_response(
            request, 503, "Service unavailable", "unavailable",
            "All database connections are busy; try again.", headers={"Retry-After": "1"},
        )

    @app.exception_handler(DBAPIError)
    async def on_database_error(request: Request, exc: DBAPIError):
        code = _sqlstate(exc)
        known = _SQLSTATE_PROBLEMS.get(code or "")
        if known:
            status, title, slug, detail = known
            headers = {"Retry-After": "1"} if status == 503 else None
            return problem_response(request, status, title, slug, detail, headers=headers)
        if isinstance(exc, IntegrityError):
            return problem_response(request, 409, "Conflict", "conflict", "The change conflicts with stored data.")
        if exc.connection_invalidated or code is None or code.startswith("08"):
            log.warning("database unavailable: %s", type(exc.orig).__name__)
            return problem_response(
                request, 503, "Service unavailable", "unavailable",
                "The database is unavailable; try again.", headers={"Retry-After": "2"},
            )
        log.exception("unexpected database error %s", code)
        return problem_response(request, 500, "Internal error", "internal")

    @app.exception_handler(asyncpg.PostgresError)
    async def on_driver_error(request: Request, exc: asyncpg.PostgresError):
        # Opening a new connection raises the driver's own errors, not wrapped by SQLAlchemy:
        # too many clients (53300), starting up or shutting down (57P03), and the like.
        code = getattr(exc, "sqlstate", None) or ""
        known = _SQLSTATE_PROBLEMS.get(code)
        if known and known[0] == 503:
            _, title, slug, detail = known
            log.warning("database unavailable: %s (%s)", type(exc).__name__, code)
            return problem_response(request, 503, title, slug, detail, headers={"Retry-After": "1"})
        if code.startswith(("08", "53", "57")):
            log.warning("database unavailable: %s (%s)", type(exc).__name__, code)
            return problem_response(
                request, 503, "Service unavailable", "unavailable",
                "The database is unavailable; try again.", headers={"Retry-After": "2"},
            )
        log.exception("unexpected database error %s", code)
        return problem_response(request, 500, "Internal error", "internal")

    @app.exception_handler(asyncpg.InterfaceError)
    @app.exception_handler(asyncpg.exceptions.InternalClientError)
    async def on_lost_connection(request: Request, exc: Exception):
        # A new connection closed under the driver while it was being set up (terminated,
        # or the server went away between accepting it and the first query).
        log.warning("database connection lost: %s", exc)
        return problem_response(
            request, 503, "Service unavailable", "unavailable",
            "The database connection was lost; try again.", headers={"Retry-After": "1"},
        )

    @app.exception_handler(OSError)
    async def on_network_error(request: Request, exc: OSError):
        # Connecting to a database that is down raises plain OSErrors from asyncpg.
        log.warning("database unreachable: %s", exc)
        return problem_response(
            request, 503, "Service unavailable", "unavailable",
            "The database is unreachable; try again.", headers={"Retry-After": "2"},
        )

    @app.exception_handler(Exception)
    async def on_unexpected(request: Request, exc: Exception):
        log.exception("unhandled error")
        return problem_response(request, 500, "Internal error", "internal")

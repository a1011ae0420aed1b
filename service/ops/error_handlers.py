"""The handlers that turn every failure into application/problem+json: the service's own
errors, validation, Starlette's HTTP errors, and the database's. Nothing reaches the client
as an HTML page or a bare 500."""

import logging

import asyncpg
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import ClientDisconnect

from service.errors import (
    BAD_REQUEST,
    CONFLICT,
    INTERNAL,
    INVALID_INPUT,
    METHOD_NOT_ALLOWED,
    NOT_ACCEPTABLE,
    NOT_FOUND,
    PAYLOAD_TOO_LARGE,
    REQUEST_FAILED,
    TOO_MANY_REQUESTS,
    UNAVAILABLE,
    URI_TOO_LONG,
    Kind,
    ServiceError,
    error_response,
    field_errors,
    problem_response,
    unavailable,
)
from service.ops.routes import allowed_methods, unsupported_body

# The name these records always had: log queries and alerts select on it.
log = logging.getLogger("service.errors")

CLIENT_CLOSED_REQUEST = 499  # nginx's status for a request its client abandoned

# Starlette's HTTP errors named by their own kind; any other status is "Request failed".
_HTTP_KINDS = {
    kind.status: kind
    for kind in (BAD_REQUEST, NOT_FOUND, METHOD_NOT_ALLOWED, NOT_ACCEPTABLE, PAYLOAD_TOO_LARGE, URI_TOO_LONG,
                 TOO_MANY_REQUESTS)
}

# PostgreSQL SQLSTATE codes that mean "the client sent something we cannot store" (409, 422)
# or "the database cannot serve now" (503).
_SQLSTATE_PROBLEMS: dict[str, tuple[Kind, str]] = {
    "23505": (CONFLICT, "A record with this natural key already exists."),
    "23503": (CONFLICT, "The record is referenced by or refers to another."),
    "23514": (INVALID_INPUT, "A value breaks a rule of the data."),
    "23502": (INVALID_INPUT, "A required value is missing."),
    "22001": (INVALID_INPUT, "A value is too long."),
    "22003": (INVALID_INPUT, "A number is out of range."),
    "22021": (INVALID_INPUT, "Text is not valid UTF-8."),
    "22P05": (INVALID_INPUT, "Text holds a character PostgreSQL cannot store."),
    "57014": (UNAVAILABLE, "The query took too long; try again."),
    "53300": (UNAVAILABLE, "The database is saturated; try again."),
    "57P01": (UNAVAILABLE, "The database is restarting; try again."),
    "57P02": (UNAVAILABLE, "The database is restarting; try again."),
    "57P03": (UNAVAILABLE, "The database is starting or stopping; try again."),
    "53000": (UNAVAILABLE, "The database is out of resources; try again."),
    "53200": (UNAVAILABLE, "The database is out of memory; try again."),
    "55P03": (UNAVAILABLE, "A lock could not be taken in time; try again."),
    # A write that reached a read-only server: a replica, or a primary mid-failover.
    "25006": (UNAVAILABLE, "The database is read-only right now; try again."),
}
_DOWN = "The database is unavailable; try again."


def _sqlstate(exc: DBAPIError) -> str | None:
    orig = exc.orig
    for candidate in (orig, getattr(orig, "__cause__", None)):
        code = getattr(candidate, "sqlstate", None) or getattr(candidate, "pgcode", None)
        if code:
            return str(code)
    return None


def _internal(request: Request, code: str | None) -> JSONResponse:
    log.exception("unexpected database error %s", code)
    return problem_response(request, INTERNAL)


async def on_database_error(request: Request, exc: DBAPIError) -> JSONResponse:
    code = _sqlstate(exc)
    known = _SQLSTATE_PROBLEMS.get(code or "")
    if known:
        kind, detail = known
        if kind is UNAVAILABLE:
            return unavailable(request, detail, retry_after=1)
        return problem_response(request, kind, detail)
    if isinstance(exc, IntegrityError):
        return problem_response(request, CONFLICT, "The change conflicts with stored data.")
    if exc.connection_invalidated or code is None or code.startswith("08"):
        log.warning("database unavailable: %s", type(exc.orig).__name__)
        return unavailable(request, _DOWN, retry_after=2)
    return _internal(request, code)


async def on_driver_error(request: Request, exc: asyncpg.PostgresError) -> JSONResponse:
    # Opening a new connection raises the driver's own errors, not wrapped by SQLAlchemy:
    # too many clients (53300), starting up or shutting down (57P03), and the like.
    code = getattr(exc, "sqlstate", None) or ""
    known = _SQLSTATE_PROBLEMS.get(code)
    if known and known[0] is UNAVAILABLE:
        log.warning("database unavailable: %s (%s)", type(exc).__name__, code)
        return unavailable(request, known[1], retry_after=1)
    if code.startswith(("08", "53", "57")):
        log.warning("database unavailable: %s (%s)", type(exc).__name__, code)
        return unavailable(request, _DOWN, retry_after=2)
    return _internal(request, code)


async def on_validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
    if (unsupported := unsupported_body(request)) is not None:
        return error_response(request, unsupported)
    errors = field_errors(list(exc.errors()))
    return problem_response(request, INVALID_INPUT, "The request has invalid or unknown fields.", errors)


async def on_http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
    kind = _HTTP_KINDS.get(exc.status_code, REQUEST_FAILED)
    headers = exc.headers
    if exc.status_code == 405:
        headers = {**(headers or {}), "Allow": allowed_methods(request)}
    return problem_response(request, kind, str(exc.detail), headers=headers, status=exc.status_code)


def register_error_handlers(app: FastAPI) -> None:
    # Starlette types every handler as taking any Exception: it cannot tie a handler's
    # parameter to the class it is registered for, which guarantees it here.
    app.add_exception_handler(ServiceError, error_response)  # type: ignore[arg-type]
    app.add_exception_handler(RequestValidationError, on_validation_error)  # type: ignore[arg-type]
    app.add_exception_handler(StarletteHTTPException, on_http_error)  # type: ignore[arg-type]
    app.add_exception_handler(DBAPIError, on_database_error)  # type: ignore[arg-type]
    app.add_exception_handler(asyncpg.PostgresError, on_driver_error)

    @app.exception_handler(ClientDisconnect)
    async def on_client_gone(request: Request, exc: ClientDisconnect) -> Response:
        # The client went away while its body was being read: not an error of ours, and
        # nobody is left to answer. The access log records 499, as nginx does.
        log.info("the client disconnected before sending its whole request")
        return Response(status_code=CLIENT_CLOSED_REQUEST)

    @app.exception_handler(PoolTimeout)
    async def on_pool_timeout(request: Request, exc: PoolTimeout) -> JSONResponse:
        return unavailable(request, "All database connections are busy; try again.", retry_after=1)

    @app.exception_handler(asyncpg.InterfaceError)
    @app.exception_handler(asyncpg.exceptions.InternalClientError)
    async def on_lost_connection(request: Request, exc: Exception) -> JSONResponse:
        # A new connection closed under the driver while it was being set up (terminated,
        # or the server went away between accepting it and the first query).
        log.warning("database connection lost: %s", exc)
        return unavailable(request, "The database connection was lost; try again.", retry_after=1)

    @app.exception_handler(OSError)
    async def on_network_error(request: Request, exc: OSError) -> JSONResponse:
        # Connecting to a database that is down raises plain OSErrors from asyncpg.
        log.warning("database unreachable: %s", exc)
        return unavailable(request, "The database is unreachable; try again.", retry_after=2)

    @app.exception_handler(Exception)
    async def on_unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error")
        return problem_response(request, INTERNAL)

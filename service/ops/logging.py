"""Logging: one JSON object per line (or plain text for people), with the request's context.

Every record logged while a request is handled carries its request_id, method, path and
client, so an error deep in a repository can be traced to the request that caused it. Query
strings and headers are never logged: they may hold credentials (`?api_key=`, Authorization).
"""

import logging
import sys
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any, TextIO

from pythonjsonlogger.core import RESERVED_ATTRS
from pythonjsonlogger.json import JsonFormatter

from service.config import LogSettings

# The fields of the request being handled, set by RequestContextMiddleware.
request_context: ContextVar[dict[str, Any] | None] = ContextVar("request_context", default=None)

# Set when the service closes a response on purpose (a client too slow to read an export).
response_cut_off: ContextVar[bool] = ContextVar("response_cut_off", default=False)

TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
HANDLER_NAME = "partnerships"


class RequestContextFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        for name, value in (request_context.get() or {}).items():
            if not hasattr(record, name):
                setattr(record, name, value)
        return True


class CutOffFilter(logging.Filter):
    """uvicorn logs a response left unfinished as an error; one the service cut off on purpose
    is not one (the service logs it, as a warning, with the request's context)."""

    UNFINISHED = "ASGI callable returned without completing response."

    def filter(self, record: logging.LogRecord) -> bool:
        return not (record.name == "uvicorn.error" and record.msg == self.UNFINISHED and response_cut_off.get())


class JsonLineFormatter(JsonFormatter):
    def __init__(self) -> None:
        super().__init__(
            "{asctime}{levelname}{name}{message}",
            style="{",
            rename_fields={"asctime": "time", "levelname": "level", "name": "logger"},
            # uvicorn attaches a copy of some messages with terminal colour codes.
            reserved_attrs=[*RESERVED_ATTRS, "color_message"],
        )

    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:  # noqa: N802
        return datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds")


class TextFormatter(logging.Formatter):
    def __init__(self) -> None:
        super().__init__(TEXT_FORMAT)

    def format(self, record: logging.LogRecord) -> str:
        line = super().format(record)
        request_id = getattr(record, "request_id", None)
        return f"{line} [{request_id}]" if request_id else line


def configure_logging(settings: LogSettings, stream: TextIO | None = None) -> logging.Handler:
    """Send every logger (uvicorn's included) to one handler, on stderr by default."""
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(JsonLineFormatter() if settings.format == "json" else TextFormatter())
    handler.addFilter(RequestContextFilter())
    handler.addFilter(CutOffFilter())
    handler.set_name(HANDLER_NAME)
    root = logging.getLogger()
    for old in [h for h in root.handlers if h.get_name() == HANDLER_NAME]:
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(settings.level)
    logging.captureWarnings(True)  # Python warnings become log records, in the same format
    # uvicorn's loggers reach this handler through the root; its access log stays quiet
    # (ours replaces it) because it would print query strings.
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        logging.getLogger(name).handlers.clear()
        logging.getLogger(name).propagate = True
    # procrastinate's periodic deferrer logs each tick (several a minute) and its blueprints
    # each task at start: at DEBUG only. Jobs starting and ending stay at INFO.
    for quiet in ("pgserver", "alembic", "uvicorn.access", "procrastinate.periodic", "procrastinate.blueprints"):
        logging.getLogger(quiet).setLevel(max(logging.WARNING, root.level))
    return handler

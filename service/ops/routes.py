"""What the app's routes serve, for the error handlers: the methods allowed at a path (405)
and the media type an operation reads (415)."""

import re

from fastapi import Request
from starlette.routing import compile_path

from service.errors import UnsupportedMediaType

JSON = "application/json"


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

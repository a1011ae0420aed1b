"""The OpenAPI document, with error responses as they really are.

FastAPI files every error model under application/json and lists the same errors for every
operation; here problems move to application/problem+json and each operation keeps only the
errors it can answer with.
"""

import re
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

from service.errors import Problem

PROBLEM_REF = {"$ref": "#/components/schemas/Problem"}

ERRORS = {
    304: "Not modified: the If-None-Match ETag is current.",
    400: "The body could not be decoded as text (not UTF-8); malformed JSON answers 422.",
    401: "No valid API key: missing, malformed, unknown or revoked (see WWW-Authenticate).",
    403: "The API key's scope does not allow this, or a cluster-bound key would create what it does not own.",
    404: "No such resource.",
    409: "Conflicts with stored data (duplicate natural key, still referenced), or, for a POST, its Idempotency-Key is in use "
    "(its first request still runs, or succeeded with an answer carrying a secret, shown once: see Location).",
    412: "If-Match does not match the current ETag.",
    428: "If-Match is required by this deployment for changes.",
    413: "The request body is larger than the service accepts.",
    414: "The URL or its query string is longer than the service accepts.",
    415: "The body's Content-Type (or Content-Encoding) is not one this operation reads; the detail names those it does (a JSON body: also `Accept: application/json`).",
    422: "Invalid input: unknown fields, bad values, bad query parameters.",
    429: "Too many requests from this client; retry after Retry-After seconds.",
    503: "The database is unavailable or saturated; retry after Retry-After seconds.",
}
RETRY_AFTER = {
    "Retry-After": {"description": "Seconds to wait before retrying.", "schema": {"type": "integer"}}
}


WRITES = ("post", "put", "patch", "delete")


def _statuses(method: str, path: str, operation: dict[str, Any]) -> set[int]:
    """The errors an operation can answer with: those every operation of its kind can, and
    those its route declares itself (415 where a body has a choice of formats, 404 for a
    record named in the query). Every body is read in the media types it documents: 415 for
    any other."""
    declared = operation["responses"]
    has_id = "{" in path
    statuses = {401, 414, 422, 429, 503} | {int(k) for k in declared if k in ("404", "406", "415")}
    if "requestBody" in operation:
        statuses.add(415)
    if has_id:
        statuses.add(404)
    if method == "get" and has_id:
        statuses.add(304)
    if method in ("post", "put", "patch"):
        statuses |= {400, 413}
    if method in WRITES:
        statuses |= {403, 409}
        if has_id:
            statuses |= {412, 428}
    return statuses


def _error_response(status: int) -> dict[str, Any]:
    if status == 304:
        return {"description": ERRORS[status]}
    response: dict[str, Any] = {"description": ERRORS[status], "content": {"application/problem+json": {"schema": PROBLEM_REF}}}
    if status in (429, 503):
        response["headers"] = RETRY_AFTER
    if status == 401:
        response["headers"] = {"WWW-Authenticate": {"description": "Bearer", "schema": {"type": "string"}}}
    return response


def build_openapi(app: FastAPI) -> dict[str, Any]:
    document = get_openapi(
        title=app.title, version=app.version, description=app.description, routes=app.routes,
    )
    schemas = document.setdefault("components", {}).setdefault("schemas", {})
    schemas["Problem"] = Problem.model_json_schema(ref_template="#/components/schemas/{model}")
    for name, schema in schemas["Problem"].pop("$defs", {}).items():
        schemas[name] = schema
    for name in ("HTTPValidationError", "ValidationError"):
        schemas.pop(name, None)
    document["components"]["securitySchemes"] = {
        "apiKey": {"type": "http", "scheme": "bearer", "description": "An API key: `Authorization: Bearer pop_...`."}
    }
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            responses = {k: v for k, v in operation["responses"].items() if not k.startswith(("4", "5"))}
            responses |= {str(s): _error_response(s) for s in sorted(_statuses(method, path, operation))}
            operation["responses"] = responses
            # Reads are public by default, and a key is welcome; writes need one.
            operation["security"] = [{"apiKey": []}] if method in WRITES else [{}, {"apiKey": []}]
    _add_links(document)
    _rename_generic_schemas(document)
    return document


def _rename_generic_schemas(document: dict[str, Any]) -> None:
    """`Page_Cluster_` (pydantic's name for Page[Cluster]) becomes `ClusterPage`, the name
    its model already carries: clients generate their types from these names."""
    schemas = document["components"]["schemas"]
    renames = {name: f"{match.group(1)}Page" for name in schemas if (match := re.fullmatch(r"Page_(\w+)_", name))}
    if clash := set(renames.values()) & set(schemas):
        raise RuntimeError(f"schema names {sorted(clash)} are taken twice")
    refs = {f"#/components/schemas/{old}": f"#/components/schemas/{new}" for old, new in renames.items()}
    document["components"]["schemas"] = {renames.get(name, name): schema for name, schema in schemas.items()}

    def rewrite(node: object) -> None:
        if isinstance(node, dict):
            if node.get("$ref") in refs:
                node["$ref"] = refs[node["$ref"]]
            for value in node.values():
                rewrite(value)
        elif isinstance(node, list):
            for value in node:
                rewrite(value)

    rewrite(document)


def _identity(schema: dict[str, Any], param: str) -> str | None:
    """Where in a created resource's body the value for `{param}` is: its own field of that
    name (a sector's code; a member's cluster, by id), else its id."""
    properties = schema.get("properties", {})
    if param in properties:
        return f"/{param}/id" if "$ref" in str(properties[param]) else f"/{param}"
    return "/id" if "id" in properties else None


def _add_links(document: dict[str, Any]) -> None:
    """OpenAPI links from each create to the operations on what it created (read, change,
    delete, and what hangs below it), so clients and Schemathesis's stateful phase can
    follow create → read → change → delete."""
    schemas = document["components"]["schemas"]
    for path, operations in document["paths"].items():
        created = operations.get("post", {}).get("responses", {}).get("201")
        ref = created and created.get("content", {}).get("application/json", {}).get("schema", {}).get("$ref")
        if not ref:
            continue
        schema = schemas[ref.rsplit("/", 1)[1]]
        parents = {p: f"$request.path.{p}" for p in re.findall(r"\{(\w+)\}", path)}
        links: dict[str, dict[str, Any]] = {}
        for target, target_operations in document["paths"].items():
            below = re.fullmatch(re.escape(path) + r"/\{(\w+)\}([^{]*)", target)
            pointer = _identity(schema, below.group(1)) if below else None
            if not below or not pointer:
                continue
            for operation in target_operations.values():
                links[operation["operationId"]] = {
                    "operationId": operation["operationId"],
                    "parameters": parents | {below.group(1): f"$response.body#{pointer}"},
                }
        if links:
            created["links"] = links


def install(app: FastAPI) -> None:
    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = build_openapi(app)
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]  # FastAPI's documented way to customise its document

"""Bulk loading and export over HTTP."""

from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Annotated, Any, Literal, cast

from fastapi import APIRouter, Depends, Header, Path, Query, Request
from fastapi.responses import JSONResponse, StreamingResponse
from starlette.requests import ClientDisconnect

from service.access.principal import BulkLoader, Principal, authenticate
from service.bulk import delivery, export, service, spool
from service.bulk.delivery import ExportLimits, SpooledResponse
from service.bulk.loader import Upload
from service.bulk.reading import BodyInterrupted, BodyMeter
from service.bulk.resources import RESOURCES
from service.bulk.schemas import BulkJob, BulkQuery, BulkReport, Format
from service.db import AnonymousShareDep, SessionDep
from service.errors import PROBLEM_JSON, NotAcceptable, UnsupportedMediaType
from service.kit.app_state import SessionmakerDep, SettingsDep
from service.ops.identity import client_identity

router = APIRouter(tags=["bulk"])


async def _export_limits(request: Request) -> ExportLimits:
    return cast(ExportLimits, request.app.state.export_limits)  # set by main.create_app


ExportLimitsDep = Annotated[ExportLimits, Depends(_export_limits)]


_RESOURCE_PATH = Path(description="The resource: " + ", ".join(f"`{name}`" for name in RESOURCES) + ".")
if TYPE_CHECKING:
    ResourceName = Annotated[str, _RESOURCE_PATH]
else:
    # The enum of RESOURCES' names, for validation and the document: made at run time, so
    # a type checker sees the str it is.
    ResourceName = Annotated[Literal[tuple(RESOURCES)], _RESOURCE_PATH]

NDJSON = "application/x-ndjson"
CSV = "text/csv"
NDJSON_TYPES = {NDJSON, "application/ndjson", "application/jsonl", "application/x-jsonlines"}

UPLOAD = {
    "requestBody": {
        "required": True,
        "description": "One record per line in the resource's create shape (NDJSON), or CSV with a header of "
                       "the resource's columns (README: Bulk loading and export). `Content-Encoding: gzip` allowed.",
        "content": {
            NDJSON: {"schema": {"type": "string", "format": "binary"}},
            CSV: {"schema": {"type": "string", "format": "binary"}},
        },
    }
}
EXPORTED: dict[int | str, dict[str, Any]] = {200: {"description": "Every record, in the shape the loader takes.",
                  "content": {NDJSON: {"schema": {"type": "string"}}, CSV: {"schema": {"type": "string"}}}}}


def _upload_format(request: Request) -> tuple[Format, bool]:
    media_type, _, parameters = request.headers.get("content-type", "").partition(";")
    media_type = media_type.strip().lower()
    format: Format
    if media_type in NDJSON_TYPES:
        format = "ndjson"
    elif media_type == CSV:
        format = "csv"
    else:
        raise UnsupportedMediaType(f"Send {NDJSON} or {CSV} (optionally with Content-Encoding: gzip).")
    for parameter in parameters.split(";"):
        name, _, value = parameter.partition("=")
        if name.strip().lower() == "charset" and value.strip().strip('"').lower() not in ("utf-8", "utf8"):
            raise UnsupportedMediaType("Bulk files must be UTF-8.")
    encoding = request.headers.get("content-encoding", "identity").strip().lower()
    if encoding not in ("identity", "gzip", "x-gzip"):
        raise UnsupportedMediaType("The only Content-Encoding accepted is gzip.")
    return format, encoding != "identity"


async def _body(request: Request) -> AsyncIterator[bytes]:
    try:
        async for chunk in request.stream():
            yield chunk
    except ClientDisconnect:
        # Raising rolls the request's transaction back: nothing of the upload is applied.
        raise BodyInterrupted("The connection closed before the whole body arrived; nothing was applied.") from None


@router.post(
    "/bulk/{resource}", openapi_extra=UPLOAD, summary="Load (upsert) many records from an NDJSON or CSV file",
    response_model=BulkReport,
    responses={
        202: {"model": BulkJob, "description": "`?async=true`: the upload arrived; follow the job at `Location`."},
        415: {"description": "Not NDJSON or CSV, not UTF-8, or compressed otherwise than gzip."},
        422: {"description": "Invalid input; for a strict load with rejected rows, the problem holds the `report`."},
    },
)
async def load_records(
    session: SessionDep,
    app_settings: SettingsDep,
    loader: BulkLoader,
    request: Request,
    resource: ResourceName,
    query: Annotated[BulkQuery, Query()],
    idempotency_key: Annotated[
        str | None,
        Header(alias="Idempotency-Key", min_length=1, max_length=200,
               description="Retrying with the same key answers the first answer again instead of loading twice."),
    ] = None,
) -> JSONResponse:
    """Upsert every row by its natural key (`slug`, `country`, `external_id`; meeting data by
    mission and start, mission and cluster, or mission and both clusters): created when
    new, updated when changed, counted unchanged otherwise. `mode=strict` commits nothing when
    a row is rejected (422, the report inside); `mode=partial` commits the valid rows."""
    loader.unbound_only("load files in bulk")
    format, gzip = _upload_format(request)
    upload = Upload(RESOURCES[resource], format, gzip, query.mode, query.dry_run)
    if idempotency_key is not None:
        # Keys belong to the client that sent them: two clients may pick the same one.
        idempotency_key = f"{(await client_identity(request.scope)).key}:{idempotency_key}"
    settings = app_settings.bulk
    # The body arrives whole before a connection is taken: a client trickling it in holds
    # no connection, only its spool (memory, then disk).
    meter = BodyMeter()
    body = await spool.receive(_body(request), settings.job_dir, meter, settings.upload_timeout_seconds)
    try:
        answer = await service.load(
            session, upload, body, meter, settings, request.url.path, idempotency_key, run_async=query.run_async,
            api_key_id=loader.key_id,
        )
    finally:
        body.close()
    headers = {"Idempotent-Replayed": "true"} if answer.replayed else {}
    if answer.status == 202:
        headers["Location"] = f"/v1/bulk-jobs/{answer.body['id']}"
    media_type = PROBLEM_JSON if answer.status >= 400 else "application/json"
    return JSONResponse(answer.body, status_code=answer.status, media_type=media_type, headers=headers)


@router.get("/bulk-jobs/{job}", summary="A background bulk load: its progress and, at the end, its report")
async def get_bulk_job(
    session: SessionDep, loader: BulkLoader, settings: SettingsDep,
    job: Annotated[str, Path(min_length=1, max_length=80, description="The job's id.")],
) -> BulkJob:
    return await service.get_job(session, job, settings.bulk.statement_timeout_ms, loader)


def _export_format(request: Request) -> Format:
    accept = request.headers.get("accept", "").lower()
    if CSV in accept:
        return "csv"
    if not accept or any(t in accept for t in ("ndjson", "jsonl", "*/*", "application/*", "application/json")):
        return "ndjson"
    raise NotAcceptable(f"Exports are {NDJSON} or {CSV}.")


@router.get("/export/{resource}", response_class=StreamingResponse, responses=EXPORTED,
            summary="Export every record as NDJSON (or CSV with Accept: text/csv)")
async def export_records(
    request: Request, resource: ResourceName, principal: Annotated[Principal, Depends(authenticate)],
    app_settings: SettingsDep, sessionmaker: SessionmakerDep, export_limits: ExportLimitsDep,
    anonymous_share: AnonymousShareDep,
) -> SpooledResponse:
    """The same shape `POST /v1/bulk/{resource}` takes, ordered by natural key: export, load
    into another database, export again, and the files are identical. Meeting availability
    and requests go to keys not bound to a cluster only (403 otherwise)."""
    if RESOURCES[resource].private:
        # The API shows a bound key only its own cluster's part of these: it gets none here.
        principal.unbound_only(f"export {resource}")
    format = _export_format(request)
    settings = app_settings.bulk
    media_type = f"{CSV}; charset=utf-8" if format == "csv" else NDJSON
    filename = f"{resource}.{'csv' if format == 'csv' else 'ndjson'}"
    return await delivery.spooled(
        export.records(sessionmaker, RESOURCES[resource], format, settings),
        place=export_limits.slot((await client_identity(request.scope)).key),
        holding=anonymous_share.held_by(principal),
        directory=settings.job_dir, send_timeout=settings.export_send_timeout_seconds,
        media_type=media_type, headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )

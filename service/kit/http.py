"""HTTP conventions shared by every router: ETags, preconditions, links, list parameters."""

import hashlib
from typing import Annotated, Any, TypeVar

from fastapi import Depends, Header, Request, Response
from pydantic import BaseModel, Field

from service.errors import PreconditionFailed, PreconditionRequired
from service.kit.schemas import InputModel

MAX_PAGE_SIZE = 200
DEFAULT_PAGE_SIZE = 50
MAX_FILTER_VALUES = 50

M = TypeVar("M", bound=BaseModel)


def etag_of(representation: BaseModel) -> str:
    """A strong ETag: the digest of the representation as served.

    Deriving it from the body (rather than a row version) keeps it right for resources with
    derived fields too, such as a target market's counts or a partnership's members.
    """
    return etag_for(representation.model_dump_json().encode())


def etag_for(body: bytes) -> str:
    return '"' + hashlib.blake2b(body, digest_size=16).hexdigest() + '"'


def _etags(header: str) -> set[str]:
    return {tag.strip() for tag in header.split(",") if tag.strip()}


class Preconditions:
    """The If-Match header of a write. Checked by services against the current state, read
    under a row lock, so two writers holding the same ETag cannot both succeed."""

    def __init__(self, if_match: str | None = None):
        self.if_match = if_match

    def check(self, current: BaseModel) -> None:
        if self.if_match is None:
            return
        tags = _etags(self.if_match)
        if "*" in tags:
            return
        if etag_of(current) not in tags:
            raise PreconditionFailed(
                "The resource has changed since you read it (If-Match does not match its ETag). "
                "Read it again and reapply your change."
            )


async def preconditions(
    request: Request,
    if_match: Annotated[
        str | None,
        Header(max_length=1000, description="ETag from a previous read; the write fails with 412 if the resource changed since."),
    ] = None,
) -> Preconditions:
    changes = request.method in ("PATCH", "PUT", "DELETE")  # creates have nothing to match
    if if_match is None and changes and request.app.state.settings.access.if_match_required:
        raise PreconditionRequired(
            "Send If-Match with the ETag you read: this deployment refuses writes that could overwrite blindly."
        )
    return Preconditions(if_match)


# Dependencies are async on purpose: FastAPI runs plain functions in a thread pool, a
# costly hop for work this small.
PreconditionsDep = Annotated[Preconditions, Depends(preconditions)]


def _not_modified(request: Request, etag: str) -> bool:
    tags = _etags(request.headers.get("if-none-match") or "")
    return etag in tags or "*" in tags


def conditional_read(request: Request, response: Response, representation: BaseModel) -> Response:
    """The representation with its ETag, or 304 when the client already holds it.

    The body is serialized once, for the ETag and to send (returned as a Response, FastAPI
    does not serialize it again); headers set on `response` go with it."""
    body = representation.model_dump_json().encode()
    etag = etag_for(body)
    if _not_modified(request, etag):
        return Response(status_code=304, headers={"ETag": etag})
    headers = {k: v for k, v in response.headers.items() if k not in ("content-length", "content-type")}
    return Response(body, media_type="application/json", headers=headers | {"ETag": etag})


def json_body(response: Response, representation: BaseModel) -> Response:
    """The representation serialized once, straight to bytes, with the headers set on
    `response`. For what the service built itself from typed columns: FastAPI's own path would
    check it against the route's response_model and serialize it again."""
    headers = {k: v for k, v in response.headers.items() if k not in ("content-length", "content-type")}
    return Response(representation.model_dump_json().encode(), media_type="application/json", headers=headers)


def conditional_body(request: Request, body: bytes, media_type: str, headers: dict[str, str] | None = None) -> Response:
    """The same for a non-JSON body (a calendar feed)."""
    etag = etag_for(body)
    if _not_modified(request, etag):
        return Response(status_code=304, headers={"ETag": etag})
    return Response(body, media_type=media_type, headers={"ETag": etag, **(headers or {})})


def with_etag(response: Response, representation: M) -> M:
    response.headers["ETag"] = etag_of(representation)
    return representation


def created(response: Response, location: str, representation: M) -> M:
    response.headers["Location"] = location
    return with_etag(response, representation)


def link_next(request: Request, response: Response, next_cursor: str | None) -> None:
    if next_cursor:
        url = request.url.include_query_params(cursor=next_cursor)
        response.headers["Link"] = f'<{url}>; rel="next"'


class ListQuery(InputModel):
    """Paging and sorting, shared by every list. Unknown query parameters answer 422."""

    limit: int = Field(DEFAULT_PAGE_SIZE, ge=1, le=MAX_PAGE_SIZE, description="Items per page.")
    cursor: str | None = Field(None, max_length=1000, description="`next_cursor` of the previous page.")
    sort: str | None = Field(None, max_length=50, description="A field name; prefix `-` for descending.")


# Any, as pydantic's own Field: the FieldInfo stands where the field's default goes.
def as_of_field() -> Any:
    return Field(
        None, description="Derive statuses as on this date instead of today (UTC), e.g. what took applications then.",
    )


def filter_values(description: str) -> Any:
    """A repeatable filter: `?country=FR&country=DE` means FR or DE."""
    return Field(default_factory=list, max_length=MAX_FILTER_VALUES, description=description)

"""The RFC 9457 problem document, as one schema for OpenAPI and the handlers."""

from typing import Any

from pydantic import BaseModel, Field


class FieldError(BaseModel):
    location: str = Field(description="Where the error is, e.g. `body.country` or `query.limit`.")
    message: str


class Problem(BaseModel):
    type: str = Field(description="A URI reference naming the kind of problem.")
    title: str
    status: int
    detail: str | None = None
    instance: str | None = Field(None, description="The path of the request that failed.")
    errors: list[FieldError] | None = Field(None, description="Field errors, for invalid input.")
    request_id: str | None = Field(
        None, description="The request's `X-Request-ID`: quote it when reporting a problem."
    )


def field_errors(errors: list[dict[str, Any]], prefix: tuple = ()) -> list[FieldError]:
    """FieldErrors from pydantic's error list. The offending input is deliberately not
    echoed: it may be huge or binary."""
    return [
        FieldError(
            location=".".join(str(part) for part in (*prefix, *e["loc"])),
            message=e["msg"].removeprefix("Value error, "),
        )
        for e in errors
    ]

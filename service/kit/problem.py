"""The RFC 9457 problem document, as one schema for OpenAPI and the handlers."""

from typing import Any

from pydantic import BaseModel, Field
from pydantic.json_schema import SkipJsonSchema


class FieldError(BaseModel):
    location: str = Field(description="Where the error is, e.g. `body.country` or `query.limit`.")
    message: str


def _absent_when_unknown(description: str):
    """A member left out of the document when there is nothing to say (never sent as null):
    optional, and typed as what it is when present."""

    def schema(field: dict) -> None:
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

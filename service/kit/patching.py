"""PATCH with merge semantics, validated by the same rules as a create.

The current state (in its create shape) is overlaid with the fields the client sent and the
result is validated as a whole, so a PATCH can never produce a record a POST would refuse:
required fields stay required, cross-field rules (end after start, region in country) hold.
Top-level fields are replaced whole; lists and nested objects are not merged item by item.
"""

from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from service.errors import InvalidInput, field_errors

M = TypeVar("M", bound=BaseModel)


def merge(create_model: type[M], current: dict[str, Any], patch: BaseModel) -> M:
    merged = {**current, **patch.model_dump(exclude_unset=True)}
    try:
        return create_model.model_validate(merged)
    except ValidationError as exc:
        raise InvalidInput("The change would leave the record invalid.", errors=field_errors(exc.errors(), prefix=("body",))) from None

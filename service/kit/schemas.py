"""Base classes for the API's pydantic schemas.

Input schemas forbid unknown fields (a misspelt field must not be silently dropped) and
reject NaN/Infinity; output schemas read from ORM objects and mappings alike.
"""

import copy
from typing import Any

from pydantic import BaseModel, ConfigDict, create_model


class InputModel(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False, str_strip_whitespace=True)


class OutputModel(BaseModel):
    model_config = ConfigDict(from_attributes=True)


def patch_of(create: type[InputModel], name: str, *, exclude: tuple[str, ...] = ()) -> type[InputModel]:
    """The PATCH body for a resource: every field of its create body, each optional.

    Types, bounds and descriptions are the create body's own, so the two cannot drift. A
    field stays nullable only where the create body allows null (a client may clear a
    city, not a name): its schema says so and a null for it is refused up front.
    """
    # Values are (annotation, FieldInfo) pairs; typed Any because mypy checks a **mapping
    # against every keyword create_model has (__config__, __doc__, ...), not only the fields.
    fields: dict[str, Any] = {}
    for field_name, field in create.model_fields.items():
        if field_name in exclude:
            continue
        optional = copy.copy(field)
        optional.default, optional.default_factory = None, None
        fields[field_name] = (field.annotation, optional)
    return create_model(name, __base__=InputModel, __module__=create.__module__, **fields)

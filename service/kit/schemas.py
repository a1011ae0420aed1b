"""Base classes for the API's pydantic schemas.

Input schemas forbid unknown fields (a misspelt field must not be silently dropped) and
reject NaN/Infinity; output schemas read from ORM objects and mappings alike.
"""

from pydantic import BaseModel, ConfigDict


class InputModel(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False, str_strip_whitespace=True)


class OutputModel(BaseModel):
    model_config = ConfigDict(from_attributes=True)

import uuid
from datetime import datetime
from typing import Literal

from pydantic import Field, ValidationInfo, field_validator

from service.kit.schemas import InputModel, OutputModel
from service.kit.types import ShortName, Slug

Scope = Literal["read", "write", "bulk", "admin"]


class ApiKeyCreate(InputModel):
    name: ShortName = Field(description='Who or what uses the key, e.g. "OPTICSVALLEY website".')
    scope: Scope = Field("write", description="`read` (only reads) < `write` < `bulk` (also bulk loads) < `admin` (everything, keys too).")
    cluster: Slug | None = Field(
        None, description="Bind the key to a cluster: it may then change only what that cluster owns. Not for `admin` keys."
    )

    @field_validator("cluster")
    @classmethod
    def _admin_unbound(cls, cluster: str | None, info: ValidationInfo) -> str | None:
        # An admin key acts for everyone; a binding it ignored would only mislead.
        if cluster is not None and info.data.get("scope") == "admin":
            raise ValueError("an admin key cannot be bound to a cluster; use the write or bulk scope for a bound key")
        return cluster


class ApiKeyInfo(OutputModel):
    id: uuid.UUID
    prefix: str = Field(description="The public part of the key, to tell keys apart.")
    name: str
    scope: Scope
    cluster: str | None = Field(description="Slug of the cluster the key is bound to.")
    created_at: datetime
    revoked_at: datetime | None


class ApiKeyCreated(ApiKeyInfo):
    key: str = Field(description="The key itself. Shown only now: store it safely.")

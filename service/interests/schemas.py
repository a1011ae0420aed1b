import uuid
from datetime import datetime
from typing import Annotated, Literal

from pydantic import Field

from service.clusters.schemas import ClusterRefOut
from service.kit.http import ListQuery
from service.kit.schemas import InputModel, OutputModel
from service.kit.types import Text
from service.missions.schemas import Reference

InterestStatus = Literal["pending", "accepted", "declined", "withdrawn"]
Message = Annotated[str, Text(5000, min_length=1)]
Contact = Annotated[str, Text(300)]


class InterestCreate(InputModel):
    message: Message = Field(description="What the cluster offers or asks; seen by the poster.")
    contact: Contact | None = Field(
        None, description="Who to contact (name, email or phone); shown to the poster once the interest is accepted.",
    )
    cluster: Reference | None = Field(
        None, description="Slug or id of the interested cluster; a key bound to a cluster may leave it out (its own).",
    )


class InterestPatch(InputModel):
    status: InterestStatus = Field(
        description="`accepted` or `declined` (the poster, on a pending interest); `withdrawn` (the sender, on a pending one).",
    )
    contact: Contact | None = Field(
        None, description="With `accepted` only: the poster's contact for this sender, shown to the sender.",
    )


class Interest(OutputModel):
    id: uuid.UUID
    opportunity_id: uuid.UUID
    cluster: ClusterRefOut = Field(description="The interested cluster.")
    message: str
    contact: str | None = Field(description="The sender's contact; null to the poster until the interest is accepted.")
    poster_contact: str | None = Field(description="The poster's contact, given when accepting; null before.")
    status: InterestStatus
    created_at: datetime
    updated_at: datetime


class InterestEvent(OutputModel):
    """What the public change feed says of an interest: ids and status, nothing private
    (no message, no contact, not even who sent it)."""

    id: uuid.UUID
    opportunity_id: uuid.UUID
    status: InterestStatus


class InterestQuery(ListQuery):
    """`sort` is added at run time from the repository's sort fields (see service.InterestListQuery)."""

    status: list[InterestStatus] = Field(default_factory=list, max_length=4, description="Only interests in these statuses.")


class InterestSummary(OutputModel):
    total: int = Field(description="Interests expressed in the opportunity, in any status.")
    accepted: int = Field(description="Of those, accepted by the poster.")


class OpportunityFunnel(OutputModel):
    interests: int = Field(description="Interests expressed, in any status.")
    pending: int
    accepted: int
    declined: int
    withdrawn: int

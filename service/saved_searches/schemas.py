import uuid
from datetime import datetime
from typing import TYPE_CHECKING, Any

from pydantic import Field, field_validator

from service.kit.http import DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE
from service.kit.schemas import InputModel, OutputModel
from service.kit.types import Name
from service.opportunities.search_service import SearchListQuery

if TYPE_CHECKING:
    from service.opportunities.schemas import SearchQuery as SearchParameters
else:
    # The search's own query model (with its enum of sort tokens), built at run time.
    SearchParameters = SearchListQuery


class SavedQuery(SearchParameters):
    """The parameters of `GET /v1/opportunities`, as a JSON object (repeatable ones as lists)."""

    @field_validator("cursor")
    @classmethod
    def _no_cursor(cls, value: str | None) -> str | None:
        if value is not None:
            raise ValueError("a saved query holds no cursor: page its results with the cursor of /results")
        return value


class SavedSearchCreate(InputModel):
    name: Name
    query: SavedQuery = Field(description="What to search for: the parameters of `GET /v1/opportunities`.")


class SavedSearchPatch(InputModel):
    """The fields to change; the others keep their value."""

    name: Name | None = None
    query: SavedQuery | None = Field(None, description="Replaces the whole query.")


class Feed(OutputModel):
    url: str = Field(description="The Atom feed of the newest matches; its token lets feed readers in without a key.")
    token: str = Field(description="The feed's secret. Rotating it (POST .../feed-token) revokes every URL given out.")


class SavedSearch(OutputModel):
    id: uuid.UUID
    name: str
    query: SavedQuery
    results: str = Field(description="Path of the search's current results.")
    feed: Feed
    created_at: datetime
    updated_at: datetime


class ResultsQuery(InputModel):
    cursor: str | None = Field(None, max_length=1000, description="`next_cursor` of the previous page.")
    limit: int | None = Field(
        None, ge=1, le=MAX_PAGE_SIZE, description=f"Items per page; default: the saved query's (else {DEFAULT_PAGE_SIZE})."
    )


class FeedQuery(InputModel):
    token: str = Field(min_length=1, max_length=100, description="The feed token shown to the saved search's owner.")


class SavedSearchMatched(OutputModel):
    """The data of a `saved_search.matched` event: which saved search, and what it now matches."""

    id: uuid.UUID = Field(description="The saved search's id.")
    saved_search_id: uuid.UUID
    opportunity: dict[str, Any] = Field(description="The opportunity as the API answered after the change.")

import uuid
from datetime import date, datetime
from typing import TYPE_CHECKING, Annotated, Literal, Self

from pydantic import Field, model_validator

from service.clusters.schemas import ClusterRefOut
from service.kit.http import ListQuery, as_of_field, filter_values
from service.kit.language_detection import detected_language
from service.kit.languages import LanguageCode, language_field
from service.kit.schemas import InputModel, OutputModel, patch_of
from service.kit.types import CountryCode, LongText, Name, PlanDate, SearchText, Slug, Text, Url
from service.missions.schemas import ExternalId, PartnershipRefOut, Reference
from service.sectors.schemas import SectorCode, sector_list

OpportunityKind = Literal["partner-search", "cooperation-offer", "cooperation-request", "call", "event"]
ResultKind = Literal["partner-search", "cooperation-offer", "cooperation-request", "call", "event", "mission"]
OpportunityStatus = Literal["open", "closed", "withdrawn"]


class Organisation(InputModel):
    name: Name
    url: Url | None = None


class PosterIn(InputModel):
    """Exactly one of cluster, partnership or organisation."""

    cluster: Reference | None = Field(None, description="Slug or id of the posting cluster.")
    partnership: Reference | None = Field(None, description="Slug or id of the posting partnership.")
    organisation: Organisation | None = Field(None, description="An organisation outside the platform.")

    @model_validator(mode="after")
    def _exactly_one(self) -> Self:
        if sum(x is not None for x in (self.cluster, self.partnership, self.organisation)) != 1:
            raise ValueError("give exactly one of cluster, partnership or organisation")
        return self


class OpportunityCreate(InputModel):
    external_id: ExternalId | None = None
    kind: OpportunityKind
    title: Name
    summary: Annotated[str, Text(1000)] | None = Field(None, description="One or two sentences shown in search results.")
    description: LongText | None = None
    language: LanguageCode | None = language_field()

    _language = detected_language("title", "summary", "description")

    countries: list[CountryCode] = Field(default_factory=list, max_length=50, description="Target countries.")
    sectors: list[SectorCode] = sector_list()
    posted_by: PosterIn
    deadline: PlanDate | None = Field(None, description="Last day to respond (inclusive, UTC); none: open-ended.")
    url: Url | None = None
    contact: Annotated[str, Text(300)] | None = Field(None, description="Who to contact (name, email or phone).")
    withdrawn: bool = False

    @model_validator(mode="after")
    def _unique(self) -> Self:
        if len(set(self.countries)) != len(self.countries):
            raise ValueError("countries must not repeat")
        if len(set(self.sectors)) != len(self.sectors):
            raise ValueError("sectors must not repeat")
        return self


# patch_of builds the model at run time (every field optional); a type checker knows it
# as an InputModel, which is all that merge() and the routes rely on.
if TYPE_CHECKING:
    OpportunityPatch = InputModel
else:
    OpportunityPatch = patch_of(OpportunityCreate, "OpportunityPatch")


class OrganisationOut(OutputModel):
    name: str
    url: str | None


class Poster(OutputModel):
    cluster: ClusterRefOut | None = None
    partnership: PartnershipRefOut | None = None
    organisation: OrganisationOut | None = None


class Opportunity(OutputModel):
    id: uuid.UUID
    external_id: str | None
    kind: OpportunityKind
    title: str
    summary: str | None
    description: str | None
    language: str | None
    countries: list[str]
    sectors: list[str]
    posted_by: Poster
    deadline: date | None
    url: str | None
    contact: str | None
    withdrawn: bool
    status: OpportunityStatus = Field(description="open until the deadline has passed (closed) unless withdrawn.")
    created_at: datetime
    updated_at: datetime


# Search -----------------------------------------------------------------------------------


class Organiser(OutputModel):
    """Who stands behind a result: a cluster, a partnership or an outside organisation."""

    type: Literal["cluster", "partnership", "organisation"]
    id: uuid.UUID | None = None
    slug: str | None = None
    name: str


class Highlight(OutputModel):
    title: str = Field(description="The title with matched words in <mark>…</mark>; other text is HTML-escaped.")
    snippet: str | None = Field(description="A passage of the summary or description around the first match, marked the same way.")


class SearchResult(OutputModel):
    kind: ResultKind
    id: uuid.UUID
    title: str
    summary: str | None
    countries: list[str]
    sectors: list[str]
    language: str | None = Field(description="ISO 639-1 code of the text's language; null: unknown (stemmed as English).")
    deadline: date | None
    organiser: Organiser | None
    link: str = Field(description="Path of the underlying resource: /v1/opportunities/{id} or /v1/missions/{id}.")
    created_at: datetime
    score: float | None = Field(None, description="Text relevance, when q is given.")
    highlight: Highlight | None = None


# How long a search's facet counts are reused (stated in the answer's description).
FACETS_FRESH_SECONDS = 30


# The confidence of an approximate count's margin.
FACETS_CONFIDENCE = 0.95


class FacetCount(OutputModel):
    value: str
    count: int
    margin: int | None = Field(
        None, description=f"With `approximate`: the true count is within `count` ± `margin` at {FACETS_CONFIDENCE:.0%} "
        "confidence (the sampling error, taking the sampled rows as drawn independently, plus the rounding). Null when "
        "the count is exact.",
    )


class Facets(OutputModel):
    approximate: bool = Field(
        False, description="Counted on a sample and rounded, each count with its `margin`: the search matched too many "
        "rows to count them all quickly. Values the sample did not meet are left out."
    )
    counted_at: datetime = Field(
        description=f"When the counts were taken. A search's counts are reused for up to {FACETS_FRESH_SECONDS} seconds "
        "(for each of its pages and sorts), so they may leave out changes made since."
    )
    kind: list[FacetCount]
    country: list[FacetCount]
    sector: list[FacetCount]
    language: list[FacetCount] = Field(description="Per language of the text (unknown languages are not counted).")


class SearchPage(OutputModel):
    items: list[SearchResult]
    next_cursor: str | None = Field(None, description="Pass as `cursor` to get the next page; null on the last page.")
    facets: Facets | None = Field(None, description="With facets=true: counts for the current query, each facet counted without its own filter.")


class SearchQuery(ListQuery):
    q: SearchText | None = Field(
        None, description='Full text in web-search syntax: words, "a phrase", -excluded, or. Accent-insensitive, matched '
        "exactly and stemmed in the languages of `lang` (else those of Accept-Language, else the configured ones).",
    )
    lang: list[LanguageCode] = filter_values(
        "A language to stem q in (ISO 639-1), repeatable; overrides Accept-Language. Languages without a stemmer "
        "in PostgreSQL (bg, cs, et, hr, lv, mt, pl, sk, sl) match exactly only."
    )
    kind: list[ResultKind] = filter_values("Kind of result; `mission` selects missions taking applications.")
    country: list[CountryCode] = filter_values("Target country (a mission's destination).")
    sector: list[SectorCode] = filter_values("Sector code; any of the given.")
    language: list[LanguageCode] = filter_values("Language of the text (ISO 639-1); any of the given.")
    deadline_after: PlanDate | None = Field(None, description="Deadline on or after this date.")
    deadline_before: PlanDate | None = Field(None, description="Deadline on or before this date.")
    open: bool = Field(True, description="true: only what can still be acted on today; false: closed ones too.")
    cluster: list[Slug] = filter_values("Posted or organised by this cluster (slug).")
    partnership: list[Slug] = filter_values("Posted or organised by this partnership (slug).")
    as_of: PlanDate | None = as_of_field()
    facets: bool = Field(False, description="Add counts per kind, country, sector and language.")
    highlight: bool = Field(False, description="Add the title and a snippet with the matched words marked.")

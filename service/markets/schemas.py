from datetime import datetime
from typing import Literal

from pydantic import Field

from service.kit.http import ListQuery, filter_values
from service.kit.schemas import InputModel, OutputModel
from service.kit.types import CountryCode, LongText, Name, Url

SupportKind = Literal[
    "chamber-of-commerce", "business-association", "sme-agency", "trade-promotion",
    "eu-programme", "embassy", "cluster", "other",
]


class SupportOrganisation(InputModel):
    name: Name
    kind: SupportKind = "other"
    url: Url | None = None


class _MarketStudy(InputModel):
    """The market study of Action 10 of the Smart Guide: who the customers are, the market's
    size, growth, profitability and trends, the key success factors, and who helps on site.
    PUT replaces the whole profile; PATCH replaces the fields it names."""

    customer_segments: LongText | None = Field(None, description="The customers the cluster SMEs want to reach.")
    market_size: LongText | None = Field(None, description="Total and serviceable available market, target share.")
    growth: LongText | None = Field(None, description="Forecast growth of the market.")
    profitability: LongText | None = Field(None, description="Attractiveness and profitability, forces acting on it.")
    trends: LongText | None = Field(None, description="Changes in prices, demand, buying power; opportunities and threats.")
    key_success_factors: LongText | None = Field(None, description="What SMEs need to succeed there.")


class MarketProfileIn(_MarketStudy):
    __doc__ = _MarketStudy.__doc__  # the schema's description: a class does not inherit it

    support_organisations: list[SupportOrganisation] = Field(default_factory=list, max_length=100)


# Not a MarketProfileIn: a PATCH may leave the list out (None), which a PUT may not.
class MarketProfilePatch(_MarketStudy):
    support_organisations: list[SupportOrganisation] | None = Field(None, max_length=100)


class SupportOrganisationOut(OutputModel):
    """As stored: read back without the input rules, which may have grown stricter since."""

    name: str
    kind: SupportKind
    url: str | None


class MarketProfile(OutputModel):
    customer_segments: str | None
    market_size: str | None
    growth: str | None
    profitability: str | None
    trends: str | None
    key_success_factors: str | None
    support_organisations: list[SupportOrganisationOut]
    updated_at: datetime


class TargetMarket(OutputModel):
    country: str
    name: str = Field(description="Country name (ISO 3166, via pycountry).")
    profile: MarketProfile | None = Field(description="The market study, once someone has written it.")
    cluster_count: int = Field(description="Clusters that target this country.")
    partnership_count: int = Field(description="Partnerships that target this country.")
    mission_count: int = Field(description="Missions held in this country.")
    agreement_count: int = Field(description="Agreements with a counterpart in this country.")


class TargetMarketQuery(ListQuery):
    country: list[CountryCode] = filter_values("Only these countries.")
    has_profile: bool | None = Field(None, description="Only markets with (true) or without (false) a market study.")

from typing import Literal

from pydantic import Field

from service.clusters.schemas import ClusterRefOut
from service.kit.http import ListQuery, filter_values
from service.kit.schemas import OutputModel
from service.kit.types import CountryCode
from service.sectors.schemas import SectorCode

Location = Literal["different-country", "different-region", "same-region", "in-target-country", "elsewhere"]


class Reasons(OutputModel):
    shared_sectors: list[str] = Field(description="Sectors both have (4 points each, at most 3 counted).")
    complementary_sectors: list[str] = Field(
        description="The candidate's sectors that partnerships combine with ours (2 points each, at most 3)."
    )
    shared_target_markets: list[str] = Field(description="Countries both target (1 point each, at most 5 counted).")
    location: Location = Field(description="Where the candidate is, relative to us (see the README).")


class Match(OutputModel):
    cluster: ClusterRefOut
    score: int
    reasons: Reasons


class MatchQuery(ListQuery):
    country: list[CountryCode] = filter_values("Only candidates located in these countries.")
    sector: list[SectorCode] = filter_values("Only candidates active in any of these sectors.")
    target_market: list[CountryCode] = filter_values("Only candidates targeting any of these countries.")

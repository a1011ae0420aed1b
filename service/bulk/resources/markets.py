"""Target markets' studies (market profiles), keyed by country."""

from collections.abc import Mapping
from typing import Any

from service.bulk.csvcodec import objects, value
from service.bulk.resources.common import jsonb, record, stored_objects
from service.bulk.spec import Column, Resource
from service.kit.countries import normalise_country
from service.kit.types import CountryCode
from service.markets.schemas import MarketProfileIn

TEXTS = ("customer_segments", "market_size", "growth", "profitability", "trends", "key_success_factors")


class MarketProfileRow(MarketProfileIn):
    """A market study with the country it is about: what `PUT /v1/target-markets/{country}` takes."""

    country: CountryCode


def _export(row: Mapping[str, Any]) -> dict[str, Any]:
    return {
        **record(row, ("country", *TEXTS)),
        "support_organisations": stored_objects(row["support_organisations"], "name", "kind", "url"),
    }


RESOURCE = Resource(
    name="target-markets",
    model=MarketProfileRow,
    table="market_profiles",
    key="country",
    has_id=False,
    normalise_key=normalise_country,
    columns=(Column("country"), *(Column(name) for name in TEXTS), Column("support_organisations", convert=jsonb)),
    csv=(value("country"), *(value(name) for name in TEXTS), objects("support_organisations", "name", "kind", "url")),
    export_query=f"SELECT country, {', '.join(TEXTS)}, support_organisations FROM market_profiles ORDER BY country",
    export_row=_export,
)

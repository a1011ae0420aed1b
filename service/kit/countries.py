"""ISO 3166-1 alpha-2 country codes, with names from pycountry.

EU documents write EL for Greece and UK for the United Kingdom; both are accepted and stored
as the ISO codes GR and GB.
"""

from functools import lru_cache

import pycountry

EU_ALIASES = {"EL": "GR", "UK": "GB"}


@lru_cache(maxsize=1)
def _codes() -> frozenset[str]:
    return frozenset(country.alpha_2 for country in pycountry.countries)


def normalise_country(value: str) -> str:
    code = value.strip().upper()
    code = EU_ALIASES.get(code, code)
    if code not in _codes():
        raise ValueError(f"'{value}' is not an ISO 3166-1 alpha-2 country code")
    return code


@lru_cache(maxsize=512)
def country_name(code: str) -> str:
    country = pycountry.countries.get(alpha_2=code)
    if country is None:
        return code
    return getattr(country, "common_name", None) or country.name


def nuts_prefix(country: str) -> str:
    """NUTS codes start with the EU's country code (EL, UK), not the ISO one."""
    return {iso: eu for eu, iso in EU_ALIASES.items()}.get(country, country)

"""The languages a request's text query is stemmed in when it names none itself (`lang`)."""

from typing import Annotated

from fastapi import Depends, Header

from service.kit.app_state import SettingsDep
from service.kit.languages import query_languages


async def request_languages(
    settings: SettingsDep,
    accept_language: Annotated[
        str | None,
        Header(
            max_length=1000,
            description="Languages to stem q in when `lang` is not given, with q-values (q=0 excludes); languages "
            "outside the EU's are ignored; none left: the configured languages (SEARCH__LANGUAGES).",
        ),
    ] = None,
) -> list[str]:
    return query_languages([], accept_language, settings.search.languages)


RequestLanguagesDep = Annotated[list[str], Depends(request_languages)]

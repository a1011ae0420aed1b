"""The languages text is written and searched in: the 24 official languages of the EU, by
ISO 639-1 code, and the PostgreSQL text search configuration that stems each.

PostgreSQL ships Snowball stemmers for fifteen of them. The others (Bulgarian, Czech,
Croatian, Estonian, Latvian, Maltese, Polish, Slovak, Slovenian) are indexed with `simple`:
lower-cased and accent-folded words, matched exactly, without stemming.
"""

from collections.abc import Sequence
from typing import Any, Literal, get_args

from pydantic import Field
from werkzeug.datastructures import LanguageAccept
from werkzeug.http import parse_accept_header

LanguageCode = Literal[
    "bg", "cs", "da", "de", "el", "en", "es", "et", "fi", "fr", "ga", "hr",
    "hu", "it", "lt", "lv", "mt", "nl", "pl", "pt", "ro", "sk", "sl", "sv",
]
LANGUAGES: tuple[str, ...] = get_args(LanguageCode)

# ISO code -> PostgreSQL's Snowball configuration; the languages missing here have none.
STEMMERS: dict[LanguageCode, str] = {
    "da": "danish", "de": "german", "el": "greek", "en": "english", "es": "spanish", "fi": "finnish",
    "fr": "french", "ga": "irish", "hu": "hungarian", "it": "italian", "lt": "lithuanian", "nl": "dutch",
    "pt": "portuguese", "ro": "romanian", "sv": "swedish",
}
UNSTEMMED = tuple(code for code in LANGUAGES if code not in STEMMERS)


def primary_language(tag: str) -> str | None:
    """The EU language of a BCP 47 tag ("de-CH" -> "de"), or None for any other language."""
    code = tag.strip().split("-")[0].lower()
    return code if code in LANGUAGES else None


def accepted_languages(accept_language: str | None) -> list[str]:
    """The EU languages an Accept-Language header accepts (q > 0), best first; regional tags
    count for their language, every other language (and *) is ignored."""
    found: list[str] = []
    for tag, quality in parse_accept_header(accept_language or "", LanguageAccept):
        code = primary_language(tag)
        if quality > 0 and code and code not in found:
            found.append(code)
    return found


def query_languages(lang: Sequence[str], accept_language: str | None, defaults: Sequence[str]) -> list[str]:
    """The languages a text query is stemmed in: those of `lang`, else those the client
    accepts, else the configured defaults."""
    return list(dict.fromkeys(lang)) or accepted_languages(accept_language) or list(defaults)


def language_field() -> Any:
    return Field(
        None,
        description="ISO 639-1 code of the text's language, one of the EU's official languages; it picks the stemmer "
        "of the text index. Left out (or null): detected from the text, and null when detection is unsure (fewer "
        "than four words, or no clear winner); such text is stemmed as English. PATCH with null to detect it again.",
    )

"""Which EU language a text is written in, when its writer did not say.

Lingua's detector, restricted to the EU languages it knows (all but Maltese) and in its
low-accuracy mode: about 35 MB of models instead of almost 600 MB (read once, when the
service starts or on first use), and still right on a sentence or more. Below MIN_WORDS words it is often wrong (a name such as
"BioValley" comes out Finnish), so short texts are left undetected: None.
"""

import re
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from pydantic import model_validator

from service.kit.languages import LANGUAGES

if TYPE_CHECKING:
    from lingua import LanguageDetector

MIN_WORDS = 4
# Detection time grows with the text (about 1 ms per 1,000 characters); the first few
# sentences say the language as well as the whole description would.
MAX_CHARS = 2_000
WORD = re.compile(r"[^\W\d_]{2,}")


@lru_cache(maxsize=1)
def _detector() -> "LanguageDetector":
    # Imported here: the models are only read when something is detected.
    from lingua import IsoCode639_1, Language, LanguageDetectorBuilder

    known = [Language.from_iso_code_639_1(getattr(IsoCode639_1, code.upper())) for code in LANGUAGES if hasattr(IsoCode639_1, code.upper())]
    return LanguageDetectorBuilder.from_languages(*known).with_low_accuracy_mode().with_minimum_relative_distance(0.1).build()


def detect(*texts: str | None) -> str | None:
    """The ISO 639-1 code of the texts' language, or None when unsure."""
    sample = "\n".join(t for t in texts if t)[:MAX_CHARS]
    if len(WORD.findall(sample)) < MIN_WORDS:
        return None
    found = _detector().detect_language_of(sample)
    return found.iso_code_639_1.name.lower() if found is not None else None


def detected_language(*fields: str) -> Any:
    """A model validator for create bodies: when no language is given, the one detected from
    the named text fields (None when unsure). Runs where the body is validated, in the event
    loop: MAX_CHARS keeps a call to a few milliseconds, and the models are loaded when the
    application starts (preload), not by the first request that writes text."""

    def fill(model: Any) -> Any:
        if model.language is None:
            model.language = detect(*(getattr(model, name) for name in fields))
        return model

    return model_validator(mode="after")(fill)


def preload() -> None:
    _detector().detect_language_of("warm up the language models")

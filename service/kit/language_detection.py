"""Which EU language a text is written in, when its writer did not say.

Lingua's detector, restricted to the EU languages it knows (all but Maltese) and in its
low-accuracy mode: about 35 MB of models instead of almost 600 MB (read once, when the
service starts or on first use), and still right on a sentence or more. Below MIN_WORDS words it is often wrong (a name such as
"BioValley" comes out Finnish), so short texts are left undetected: None.
"""

import re
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from pydantic import model_validator

from service.kit.languages import LANGUAGES

if TYPE_CHECKING:
    from lingua import Language, LanguageDetector

MIN_WORDS = 4
# Detection time grows with the text (about 1 ms per 1,000 characters); the first few
# sentences say the language as well as the whole description would.
MAX_CHARS = 2_000
WORD = re.compile(r"[^\W\d_]{2,}")
# Texts per call of the parallel detection: the call holds the GIL until it returns, and
# other threads (the event loop's) wait that long, about 40 ms for 16 long texts.
TOGETHER = 16


@lru_cache(maxsize=1)
def _detector() -> "LanguageDetector":
    # Imported here: the models are only read when something is detected.
    from lingua import IsoCode639_1, Language, LanguageDetectorBuilder

    known = [Language.from_iso_code_639_1(getattr(IsoCode639_1, code.upper())) for code in LANGUAGES if hasattr(IsoCode639_1, code.upper())]
    return LanguageDetectorBuilder.from_languages(*known).with_low_accuracy_mode().with_minimum_relative_distance(0.1).build()


def _sample(texts: Iterable[str | None]) -> str | None:
    """What the texts' language is told from; None when too short to tell."""
    sample = "\n".join(t for t in texts if t)[:MAX_CHARS]
    return sample if len(WORD.findall(sample)) >= MIN_WORDS else None


def _code(language: "Language | None") -> str | None:
    return language.iso_code_639_1.name.lower() if language is not None else None


def detect(*texts: str | None) -> str | None:
    """The ISO 639-1 code of the texts' language, or None when unsure."""
    sample = _sample(texts)
    return _code(_detector().detect_language_of(sample)) if sample is not None else None


# Inside detected_together(): the models whose language is to be detected, with their texts.
_pending: ContextVar[list[tuple[Any, tuple[str | None, ...]]] | None] = ContextVar("pending_detection", default=None)


@contextmanager
def detected_together() -> Iterator[None]:
    """Models validated inside get their languages when the block ends, TOGETHER at a time
    through lingua's parallel detection (every core) rather than one by one: for the batches
    of a bulk load, where detecting row by row was most of the load's time."""
    pending: list[tuple[Any, tuple[str | None, ...]]] = []
    token = _pending.set(pending)
    try:
        yield
    finally:
        _pending.reset(token)
    samples = [(model, _sample(texts)) for model, texts in pending]
    wanted = [(model, sample) for model, sample in samples if sample is not None]
    detector = _detector()
    for start in range(0, len(wanted), TOGETHER):
        chunk = wanted[start:start + TOGETHER]
        found = detector.detect_languages_in_parallel_of([sample for _, sample in chunk])
        for (model, _), language in zip(chunk, found, strict=True):
            model.language = _code(language)


def detected_language(*fields: str) -> Any:
    """A model validator for create bodies: when no language is given, the one detected from
    the named text fields (None when unsure). Runs where the body is validated, in the event
    loop: MAX_CHARS keeps a call to a few milliseconds, and the models are loaded when the
    application starts (preload), not by the first request that writes text. Inside
    detected_together() the detection waits for the block's end."""

    def fill(model: Any) -> Any:
        if model.language is None:
            texts = tuple(getattr(model, name) for name in fields)
            pending = _pending.get()
            if pending is None:
                model.language = detect(*texts)
            else:
                pending.append((model, texts))
        return model

    return model_validator(mode="after")(fill)


def preload() -> None:
    _detector().detect_language_of("warm up the language models")

"""The language column of text records, and the check that keeps it an EU language."""

from sqlalchemy import CheckConstraint, String
from sqlalchemy.orm import Mapped, mapped_column

from service.kit.languages import LANGUAGES


def language_check() -> CheckConstraint:
    return CheckConstraint(f"language IN {LANGUAGES}", name="language")


def language_column() -> Mapped[str | None]:
    # ISO 639-1; NULL when the writer gave none and detection was unsure (indexed as English).
    return mapped_column(String(2))

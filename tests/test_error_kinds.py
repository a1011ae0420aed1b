"""Every error's status, title and type come from its kind, written once in service.errors."""

import pytest

from service.errors import ServiceError


def test_an_error_naming_its_own_status_is_refused_when_defined() -> None:
    # Answered with its kind (internal) instead, it would be a 500 where a 410 was meant.
    with pytest.raises(TypeError, match="kind"):
        class Gone(ServiceError):
            status, title, slug = 410, "Gone", "gone"

"""The RFC 9457 problem document. Its home is `service.errors`, the lowest layer of the
service; kept importable from here for the modules that name it so."""

from service.errors import FieldError, Problem, field_errors

__all__ = ["FieldError", "Problem", "field_errors"]

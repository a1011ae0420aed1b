"""How deeply a JSON document nests, told without parsing it.

Python's json parser recurses once per level: a body of a million `[` ends in a
RecursionError, and even a few hundred levels cost validation dearly. Bodies are checked
against a limit before anything parses them. This is a scan of the raw bytes at C speed
(strings removed, brackets counted as +1/-1, the running sum's maximum), so a megabyte of
brackets costs milliseconds, and a body with fewer opening brackets than the limit costs
two counts.
"""

import re
from array import array
from itertools import accumulate

# A JSON string, or the rest of the document after an unterminated one. The unrolled loop
# matches each character one way only, so the scan is linear whatever the input.
_STRING = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"?', re.DOTALL)
_NOT_BRACKETS = bytes(b for b in range(256) if b not in b"[]{}")
_STEPS = bytes.maketrans(b"[{]}", b"\x01\x01\xff\xff")  # +1 / -1 as signed bytes


def nests_deeper_than(document: bytes, limit: int) -> bool:
    """Whether arrays and objects in document nest more than limit levels deep. A malformed
    document may be judged either way; its parser refuses it anyway."""
    if document.count(b"[") + document.count(b"{") <= limit:
        return False
    steps = _STRING.sub(b"", document).translate(None, _NOT_BRACKETS).translate(_STEPS)
    return max(accumulate(array("b", steps)), default=0) > limit

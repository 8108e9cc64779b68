"""What text the gateway accepts from clients before anything is looked up or written.

Control characters and unpaired surrogates are refused everywhere: providers disagree on them
(Stripe refuses a lone surrogate that Tofupay stores, a NUL ends a C string in some backends), so
letting one through can write half a customer. Newlines and tabs are allowed only where a field
is free text (a description).
"""

from __future__ import annotations

import re
from typing import Final

__all__ = ["MAX_EMAIL_LENGTH", "MAX_ID_LENGTH", "character_problem"]

MAX_EMAIL_LENGTH: Final = 254
"""RFC 5321's limit on a forward path, brackets excluded (RFC 3696 errata): nothing longer is an
address any provider can hold."""
MAX_ID_LENGTH: Final = 255
"""Stripe's bound on object ids and idempotency keys; every provider's ids fit."""
_REFUSED: Final = re.compile("[\x00-\x1f\x7f-\x9f\ud800-\udfff]")
"""Unicode's control characters (category Cc: exactly these two ranges) and surrogates (Cs)."""
_REFUSED_IN_FREE_TEXT: Final = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")
"""The same, newline, carriage return and tab aside."""


def character_problem(value: str, *, free_text: bool = False) -> str | None:
    """Why ``value`` cannot be accepted, naming the first offending character; else ``None``."""
    found = (_REFUSED_IN_FREE_TEXT if free_text else _REFUSED).search(value)
    if found is None:
        return None
    char, index = found.group(), found.start()
    if "\ud800" <= char <= "\udfff":
        return f"holds an unpaired surrogate (U+{ord(char):04X}) at position {index}"
    return f"holds a control character (U+{ord(char):04X}) at position {index}"

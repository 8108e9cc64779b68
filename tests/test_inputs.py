"""``character_problem`` refuses exactly Unicode's control characters and surrogates."""

from __future__ import annotations

import unicodedata

import pytest

from gateway.inputs import character_problem


@pytest.mark.parametrize("free_text", [False, True])
def test_every_code_point_is_judged_by_its_unicode_category(free_text: bool) -> None:
    for point in range(0x110000):
        char = chr(point)
        category = unicodedata.category(char)
        problem = character_problem(f"ab{char}", free_text=free_text)
        if category == "Cs":
            assert problem == f"holds an unpaired surrogate (U+{point:04X}) at position 2"
        elif category == "Cc" and not (free_text and char in "\n\r\t"):
            assert problem == f"holds a control character (U+{point:04X}) at position 2"
        else:
            assert problem is None, hex(point)


def test_the_first_offending_character_is_named() -> None:
    text = "a\tb\x00c\ud800"
    assert character_problem(text) == "holds a control character (U+0009) at position 1"
    assert character_problem(text, free_text=True) == (
        "holds a control character (U+0000) at position 3"
    )
    assert character_problem("ada@lovelace.example") is None

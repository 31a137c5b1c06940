"""--window-size: a size a screen can hold, or one clear line."""

from __future__ import annotations

import argparse

import pytest

from viewer.cli.gui import window_size


def test_a_window_size_is_width_by_height() -> None:
    assert window_size("1024x700") == (1024, 700)
    assert window_size(" 1440X860 ") == (1440, 860)


@pytest.mark.parametrize(
    "text", ["", "1024", "1024x", "x700", "-1x700", "1024x700x2", "10x10", "99999x700", "1e3x700"]
)
def test_a_bad_window_size_is_refused_with_the_expected_form(text: str) -> None:
    with pytest.raises(argparse.ArgumentTypeError, match=r"1024x700|between"):
        window_size(text)

"""Text normalisation shared by every normaliser: full-width to half-width, spaces."""

from __future__ import annotations

import re

# Full-width ASCII variants U+FF01..U+FF5E map to U+0021..U+007E; U+3000 is the ideographic space.
_FULLWIDTH = {cp: cp - 0xFEE0 for cp in range(0xFF01, 0xFF5F)}
_FULLWIDTH[0x3000] = 0x20
_SPACES = re.compile(r"\s+")


def to_halfwidth(text: str) -> str:
    """Full-width letters, digits, punctuation and spaces to their half-width forms.

    >>> to_halfwidth("ＡＢＣ（上海）１２３")
    'ABC(上海)123'
    """
    return text.translate(_FULLWIDTH)


def clean_text(text: str | None) -> str | None:
    """Half-width, trimmed, inner whitespace collapsed to one space; empty -> None.

    >>> clean_text("  华信　电器  有限公司 ")
    '华信 电器 有限公司'
    """
    if text is None:
        return None
    s = _SPACES.sub(" ", to_halfwidth(str(text))).strip()
    return s or None

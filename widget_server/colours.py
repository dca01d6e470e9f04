"""The button's text colour: black or white, whichever reads on the owner's colour.

Any ``#rrggbb`` is accepted as the button colour, so the text on it is chosen here,
by WCAG 2 contrast: white while it reaches AA (4.5:1), black otherwise. One of the
two always reaches it on an opaque colour (their ratios multiply to 21).
"""

from __future__ import annotations

WHITE, BLACK = "#ffffff", "#000000"
AA = 4.5


def luminance(colour: str) -> float:
    """WCAG 2 relative luminance of ``#rrggbb``."""
    channels = [int(colour[i:i + 2], 16) / 255 for i in (1, 3, 5)]
    r, g, b = (c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast(one: str, other: str) -> float:
    """The WCAG 2 contrast ratio of two ``#rrggbb`` colours, 1 to 21."""
    light, dark = sorted((luminance(one), luminance(other)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


def text_colour(background: str) -> str:
    """White text where it meets AA on ``background``, else black."""
    return WHITE if contrast(WHITE, background) >= AA else BLACK

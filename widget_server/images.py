"""What an uploaded image is, read from its bytes: PNG, JPEG or WebP, and its pixel size.

The type a browser or a client declares is not trusted: the first bytes
decide, and the image is served with the type found here (and ``nosniff``).
Only the header is read, never the pixels, so a crafted image costs nothing
to check; the browser that shows it decodes it in its own sandbox.

SVG is refused on purpose: it is a document, not a picture. It can carry
scripts, event handlers, links and references to other addresses, and
making one safe means parsing and rewriting XML; a PNG of the logo serves
as well.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

TYPES = {"png": "image/png", "jpeg": "image/jpeg", "webp": "image/webp"}
# JPEG start-of-frame markers (SOF0..SOF15 but DHT, JPG and DAC), which carry the size.
_SOF = frozenset(range(0xC0, 0xD0)) - {0xC4, 0xC8, 0xCC}


class ImageError(ValueError):
    """Not an image we take; the sentence says what to send instead."""


@dataclass(frozen=True)
class ImageInfo:
    kind: str  # png, jpeg or webp
    width: int
    height: int

    @property
    def content_type(self) -> str:
        return TYPES[self.kind]


def _looks_like_svg(data: bytes) -> bool:
    head = data[:1024].lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    return head.startswith((b"<?xml", b"<svg", b"<!doctype svg", b"<!--")) or b"<svg" in head


def _png(data: bytes) -> tuple[int, int]:
    # Signature, then the IHDR chunk: length, "IHDR", width, height (big-endian).
    if len(data) < 24 or data[12:16] != b"IHDR":
        raise ImageError("This PNG file is damaged: it has no header.")
    return struct.unpack(">II", data[16:24])


def _jpeg(data: bytes) -> tuple[int, int]:
    at = 2
    while at + 9 <= len(data):
        if data[at] != 0xFF:
            break
        marker = data[at + 1]
        if marker == 0xFF:  # fill byte
            at += 1
            continue
        if marker in (0x01, *range(0xD0, 0xD8)):  # markers without a length
            at += 2
            continue
        length = struct.unpack(">H", data[at + 2:at + 4])[0]
        if marker in _SOF:
            height, width = struct.unpack(">HH", data[at + 5:at + 9])
            return width, height
        at += 2 + length
    raise ImageError("This JPEG file is damaged: its size cannot be read.")


def _webp(data: bytes) -> tuple[int, int]:
    chunk = data[12:16]
    if chunk == b"VP8 " and len(data) >= 30 and data[23:26] == b"\x9d\x01\x2a":
        width, height = struct.unpack("<HH", data[26:30])
        return width & 0x3FFF, height & 0x3FFF
    if chunk == b"VP8L" and len(data) >= 25 and data[20] == 0x2F:
        bits = int.from_bytes(data[21:25], "little")
        return (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1
    if chunk == b"VP8X" and len(data) >= 30:
        return (int.from_bytes(data[24:27], "little") + 1,
                int.from_bytes(data[27:30], "little") + 1)
    raise ImageError("This WebP file is damaged: its size cannot be read.")


def read_image(data: bytes) -> ImageInfo:
    """The image ``data`` is, by its content; ``ImageError`` for anything else."""
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return ImageInfo("png", *_png(data))
    if data.startswith(b"\xff\xd8\xff"):
        return ImageInfo("jpeg", *_jpeg(data))
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return ImageInfo("webp", *_webp(data))
    if _looks_like_svg(data):
        raise ImageError("SVG images are refused: an SVG can carry scripts and links to "
                         "other sites. Upload the logo as PNG, JPEG or WebP.")
    raise ImageError("This file is not a PNG, JPEG or WebP image.")

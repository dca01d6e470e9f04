"""An upload is the image its bytes say, whatever it is called: PNG, JPEG or WebP, and its size."""

from __future__ import annotations

import pytest

from tests.factories import SVG_LOGO, jpeg_header, png_image, webp_header
from widget_server.images import ImageError, read_image


@pytest.mark.parametrize("data, kind, content_type", [
    (png_image(width=120, height=40), "png", "image/png"),
    (jpeg_header(width=120, height=40), "jpeg", "image/jpeg"),
    (webp_header(width=120, height=40), "webp", "image/webp"),
])
def test_each_type_is_known_by_its_bytes_with_its_size(data, kind, content_type):
    image = read_image(data)
    assert (image.kind, image.content_type, image.width, image.height) == (
        kind, content_type, 120, 40)


@pytest.mark.parametrize("data", [
    SVG_LOGO,
    b"  <svg xmlns='http://www.w3.org/2000/svg'><a href='javascript:x'/></svg>",
    b"\xef\xbb\xbf<!-- logo --><svg/>",
])
def test_svg_is_refused_saying_why(data):
    with pytest.raises(ImageError, match="SVG images are refused: an SVG can carry scripts"):
        read_image(data)


@pytest.mark.parametrize("data, sentence", [
    (b"GIF89a\x01\x00\x01\x00", "not a PNG, JPEG or WebP image"),
    (b"<html><script>alert(1)</script></html>", "not a PNG, JPEG or WebP image"),
    (b"\x89PNG\r\n\x1a\n", "This PNG file is damaged"),
    (b"\xff\xd8\xff\xe0\x00\x10JFIF", "This JPEG file is damaged"),
    (b"RIFF\x04\x00\x00\x00WEBPVP8 ", "This WebP file is damaged"),
])
def test_anything_else_is_refused_with_a_sentence(data, sentence):
    with pytest.raises(ImageError, match=sentence):
        read_image(data)

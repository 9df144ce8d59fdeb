"""Text answers are gzipped for a browser that accepts it (a worker's pages
on a slow network); what is compressed already passes as it is."""

import gzip

import pytest
from django.http import HttpResponse
from django.test import Client, RequestFactory

from config.middleware import CompressTextMiddleware

pytestmark = pytest.mark.django_db


def test_pages_are_gzipped_with_a_header_of_random_length():
    client = Client(headers={"accept-encoding": "gzip, deflate, br"})
    bodies = []
    for _ in range(8):
        response = client.get("/accounts/login/")
        assert response["Content-Encoding"] == "gzip"
        assert "Accept-Encoding" in response["Vary"]
        assert b"<html" in gzip.decompress(response.content)
        bodies.append(response.content)
    # Heal the Breach: a file name of 0-99 random bytes in the gzip header.
    assert len({len(b) for b in bodies}) > 1


def test_pages_are_plain_for_a_browser_without_gzip():
    response = Client().get("/accounts/login/")
    assert not response.has_header("Content-Encoding")
    assert b"<html" in response.content


@pytest.mark.parametrize(
    ("content_type", "compressed"),
    [
        ("text/html; charset=utf-8", True),
        ("text/javascript", True),
        ("text/csv", True),
        ("application/json", True),
        ("application/manifest+json", True),
        ("application/pdf", False),
        ("image/png", False),
        ("application/zip", False),
    ],
)
def test_only_text_is_compressed(content_type, compressed):
    request = RequestFactory().get("/", headers={"accept-encoding": "gzip"})
    body = b"ParkPay " * 200
    middleware = CompressTextMiddleware(
        lambda r: HttpResponse(body, content_type=content_type)
    )
    response = middleware(request)
    assert response.has_header("Content-Encoding") is compressed
    assert (response.content == body) is not compressed

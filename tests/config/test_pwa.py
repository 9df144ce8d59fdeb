"""Install and offline: the web app manifest, its icons, and the service worker
served from the site root (config/pwa.py, static/js/sw.js)."""

import json
import struct
from pathlib import Path

import pytest
from django.test import Client

from tests.factories import make_park, make_user, make_worker

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.django_db


def png_size(path: Path) -> tuple[int, int]:
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    return struct.unpack(">II", data[16:24])


def test_the_manifest_meets_chromiums_install_criteria():
    """A name, a start URL in scope, standalone display, and PNG icons of
    192 and 512 px that exist at the size they claim."""
    response = Client().get("/manifest.webmanifest")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/manifest+json"
    manifest = json.loads(response.content)
    assert manifest["name"] and manifest["short_name"] == "ParkPay"
    assert manifest["display"] == "standalone"
    assert (
        manifest["start_url"].startswith(manifest["scope"]) and manifest["scope"] == "/"
    )
    sizes = {}
    for icon in manifest["icons"]:
        assert icon["type"] == "image/png"
        path = ROOT / "static" / icon["src"].removeprefix("/static/")
        sizes[icon["sizes"]] = png_size(path)
    assert sizes == {"192x192": (192, 192), "512x512": (512, 512)}


def test_the_manifest_is_named_in_chinese_by_default():
    manifest = json.loads(Client().get("/manifest.webmanifest").content)
    assert manifest["lang"] == "zh-hans" and "工资" in manifest["name"]


def test_the_service_worker_is_served_from_the_root_for_the_whole_site():
    response = Client().get("/sw.js")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/javascript")
    assert response["Service-Worker-Allowed"] == "/"
    assert "no-cache" in response["Cache-Control"]
    assert b'addEventListener("fetch"' in response.content


def test_the_service_worker_is_served_with_the_production_storage(settings, tmp_path):
    """Under the hashed, compressed storage of production settings (a name
    missing from its manifest is an error) the worker still gets the prefix
    of the static files."""
    settings.STATIC_ROOT = tmp_path
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {
            "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        },
    }
    response = Client().get("/sw.js")
    assert response.status_code == 200
    assert b'var STATIC = "/static/";' in response.content


def test_every_page_links_the_manifest_and_icons_without_inline_script():
    html = Client().get("/accounts/login/").content.decode()
    assert 'rel="manifest" href="/manifest.webmanifest"' in html
    assert 'rel="icon"' in html and "icon-192.png" in html
    assert "<script>" not in html  # the CSP allows only ParkPay's own files
    assert 'src="/static/js/offline.js"' in html


def test_only_the_workers_own_pages_are_marked_for_keeping_offline():
    """A worker's earnings, hours and payslips say data-offline="keep"; her
    training page does not, nor does any page of a director."""
    park = make_park()
    worker = make_worker(park, with_login=True)
    director = make_user("director", park=park)
    client = Client()
    client.force_login(worker.user)
    for url in ("/me/", "/me/hours/", "/me/payslips/"):
        assert 'data-offline="keep"' in client.get(url).content.decode(), url
    assert 'data-offline="keep"' not in client.get("/me/training/").content.decode()
    client.force_login(director)
    assert 'data-offline="keep"' not in client.get("/park/staff/").content.decode()

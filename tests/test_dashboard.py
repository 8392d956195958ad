"""The dashboard at ``/``: one page that loads only local assets (works offline), needs no key
to load (its data does), and ships the vendored plotly.js with its licence."""

import re

import pytest

pytest.importorskip("fastapi")
from fastapi.testclient import TestClient  # noqa: E402

from api.main import create_app  # noqa: E402
from api.routes.dashboard import STATIC  # noqa: E402
from api.settings import Settings, get_settings  # noqa: E402


@pytest.fixture
def client():
    app = create_app(use_lifespan=False)
    app.dependency_overrides[get_settings] = lambda: Settings(api_keys="k")
    return TestClient(app)


def _assets(page: str) -> list:
    return re.findall(r"""(?:src|href)\s*=\s*["']([^"']*)["']""", page, flags=re.I)


def test_root_serves_the_page_with_local_assets_only(client):
    r = client.get("/")  # no key: the page carries no data, the /v1 calls it makes need the key
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    assert "script-src 'self'" in r.headers["content-security-policy"]
    page = r.text
    assets = _assets(page)
    assert any(a.endswith("vendor/plotly.min.js") for a in assets) and any(a.endswith("app.js") for a in assets)
    remote = [a for a in assets if re.match(r"^\s*(https?:)?//", a, flags=re.I)]
    assert not remote, f"the dashboard must work offline; remote assets: {remote}"
    for a in assets:  # every local asset the page names is served
        if a.startswith(("data:", "#")) or a == "docs":
            continue
        assert client.get("/" + a.lstrip("/")).status_code == 200, a
    assert "/" not in client.get("/openapi.json").json()["paths"]


def test_vendored_plotly_is_served_with_its_licence(client):
    r = client.get("/static/dashboard/vendor/plotly.min.js")
    assert r.status_code == 200 and "javascript" in r.headers["content-type"]
    head = r.content[:300].decode()
    assert "plotly.js v" in head and "MIT" in head
    assert "MIT" in (STATIC / "vendor" / "plotly.LICENSE.txt").read_text(encoding="utf-8")
    assert client.get("/static/dashboard/app.css").status_code == 200


def test_app_js_never_puts_text_into_inner_html():
    js = (STATIC / "app.js").read_text(encoding="utf-8")
    assert "innerHTML" not in js and "outerHTML" not in js and "insertAdjacentHTML" not in js
    assert "http://" not in js and "https://" not in js


def test_data_endpoints_still_need_the_key(client):
    r = client.get("/v1/priorities")
    assert r.status_code == 401 and r.json()["error"]["code"] == "E112"

import pytest

pytest.importorskip("fastapi")
from fastapi.testclient import TestClient  # noqa: E402

pytestmark = pytest.mark.slow


class _clear_after:
    def __init__(self, cached):
        self.cached = cached

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.cached.cache_clear()


def test_service_loads_default_model_in_lifespan():
    from api.main import create_app
    from api.settings import get_settings

    get_settings.cache_clear()  # read VOC_STORE_PATH of this test
    with TestClient(create_app()) as client, _clear_after(get_settings):
        assert client.get("/healthz").json() == {"status": "ok"}
        assert client.get("/readyz").json()["model"] == "voc-default"
        r = client.post("/v1/analyze", json={"text": "這家店的服務態度很差，再也不來了"})
        body = r.json()
        assert r.status_code == 200 and body["language"] == "zh"
        assert "service" in {t["id"] for t in body["touchpoints"]}
        assert "churn_risk" in {s["id"] for s in body["signals"]}

import pytest

pytest.importorskip("fastapi")
from fastapi.testclient import TestClient  # noqa: E402

pytestmark = pytest.mark.slow


def test_service_loads_default_model_in_lifespan():
    from api.main import create_app

    with TestClient(create_app()) as client:
        assert client.get("/healthz").json() == {"status": "ok"}
        assert client.get("/readyz").json()["model"] == "voc-default"
        r = client.post("/v1/analyze", json={"text": "這家店的服務態度很差，再也不來了"})
        body = r.json()
        assert r.status_code == 200 and body["language"] == "zh"
        assert "service" in {t["id"] for t in body["touchpoints"]}
        assert "churn_risk" in {s["id"] for s in body["signals"]}

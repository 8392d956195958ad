import pytest

pytest.importorskip("fastapi")
from fastapi.testclient import TestClient  # noqa: E402

from api.main import create_app  # noqa: E402


@pytest.fixture
def client(tiny_nlp):
    app = create_app(use_lifespan=False)
    app.state.nlp = tiny_nlp
    return TestClient(app)


def test_health(client):
    assert client.get("/healthz").json()["status"] == "ok"


def test_analyze(client):
    r = client.post("/v1/analyze", json={"text": "the waiter was rude", "id": "x"})
    assert r.status_code == 200
    body = r.json()
    assert body["id"] == "x" and body["touchpoints"][0]["id"] == "service"


def test_analyze_empty_text_is_coded_422(client):
    r = client.post("/v1/analyze", json={"text": "  "})
    assert r.status_code == 422 and r.json()["error"]["code"] == "E101"


def test_batch_scores_good_rows_and_reports_bad(client):
    r = client.post("/v1/analyze/batch", json={"items": [{"text": "rude waiter", "id": "1"}, {"text": "", "id": "2"},
                                                         {"id": "3"}, {"text": "great food", "id": "4"}]})
    body = r.json()
    assert r.status_code == 200 and body["errors"] == 2
    assert [(x["id"], (x["error"] or {}).get("code")) for x in body["records"]] == [
        ("1", None), ("2", "E101"), ("3", "E103"), ("4", None)]

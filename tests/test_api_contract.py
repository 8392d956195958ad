"""The service's contract: one error shape with the library's codes, never a 5xx for bad input,
batch items judged one by one, the same record schema on both endpoints, docs offline."""

import pytest

pytest.importorskip("fastapi")
from fastapi.testclient import TestClient  # noqa: E402

from api.main import create_app  # noqa: E402


@pytest.fixture
def client(tiny_nlp):
    app = create_app(use_lifespan=False)
    app.state.nlp = tiny_nlp
    return TestClient(app, raise_server_exceptions=False)


def _shape(r, status, code):
    assert r.status_code == status, r.text
    body = r.json()
    assert set(body) == {"error"} and set(body["error"]) == {"code", "message"}, body
    assert body["error"]["code"] == code and body["error"]["message"]


def test_lone_surrogate_is_analysed_not_a_500(client):
    raw = '{"text": "服务员态度很差\\ud800再也不来", "id": "s\\udfff"}'.encode()
    r = client.post("/v1/analyze", content=raw, headers={"content-type": "application/json"})
    assert r.status_code == 200, r.text
    assert r.json()["error"]["code"] == "E107" and r.json()["id"] == "s\ufffd"
    r = client.post("/v1/analyze/batch", content=b'{"items": [{"text": "\\ud83d"}, {"text": "rude waiter"}]}',
                    headers={"content-type": "application/json"})
    assert r.status_code == 200 and [x["error"] and x["error"]["code"] for x in r.json()["records"]] == ["E107", None]


@pytest.mark.parametrize("body,status,code", [
    ({"text": ""}, 422, "E101"),
    ({"text": 5}, 422, "E102"),
    ({"text": None}, 422, "E102"),
    ({"id": "no text"}, 422, "E110"),
    ([1, 2], 422, "E110"),
])
def test_one_error_shape(client, body, status, code):
    _shape(client.post("/v1/analyze", json=body), status, code)


def test_malformed_json_and_unknown_paths(client):
    _shape(client.post("/v1/analyze", content=b"{not json", headers={"content-type": "application/json"}),
           422, "E110")
    _shape(client.post("/v1/analyze", content=b"\xff\xfe\x00", headers={"content-type": "application/json"}),
           400, "E110")  # bytes that are not UTF-8 JSON: Starlette's 400, in our shape
    _shape(client.get("/v1/nope"), 404, "E111")
    _shape(client.get("/v1/analyze"), 405, "E111")


def test_batch_items_get_their_own_errors(client):
    r = client.post("/v1/analyze/batch", json={"items": [{"text": 5, "id": 1}, {"id": "2"}, {"text": "rude waiter"},
                                                         {"text": None, "id": "4"}, {"text": ["x"], "id": "5"}]})
    assert r.status_code == 200
    body = r.json()
    assert [(x["id"], x["error"] and x["error"]["code"]) for x in body["records"]] == [
        ("1", "E102"), ("2", "E103"), (None, None), ("4", "E102"), ("5", "E102")]
    assert body["errors"] == 4


def test_batch_limit_is_413_with_e106(client):
    from api.settings import get_settings

    n = get_settings().max_batch + 1
    _shape(client.post("/v1/analyze/batch", json={"items": [{"text": "x"}] * n}), 413, "E106")


def test_both_endpoints_declare_the_same_record_with_parent(client):
    spec = client.get("/openapi.json").json()
    schemas = spec["components"]["schemas"]
    assert "parent" in schemas["Tagged"]["properties"]
    one = spec["paths"]["/v1/analyze"]["post"]["responses"]["200"]["content"]["application/json"]["schema"]
    assert one["$ref"].endswith("/Record")
    assert schemas["BatchResponse"]["properties"]["records"]["items"]["$ref"].endswith("/Record")


def test_parent_survives_the_batch_endpoint(client, monkeypatch):
    from voc.document import Document

    original = Document.to_dict

    def with_parent(self, **kw):
        d = original(self, **kw)
        for t in d["touchpoints"]:
            t["parent"] = "staff"
        return d

    monkeypatch.setattr(Document, "to_dict", with_parent)
    one = client.post("/v1/analyze", json={"text": "the waiter was rude"}).json()
    batch = client.post("/v1/analyze/batch", json={"items": [{"text": "the waiter was rude"}]}).json()
    assert one["touchpoints"][0]["parent"] == "staff" == batch["records"][0]["touchpoints"][0]["parent"]
    assert one == batch["records"][0]


def test_docs_are_served_offline(client):
    html = client.get("/docs").text
    assert "swagger-ui-bundle.js" in html and "cdn" not in html.lower() and 'src="http' not in html
    assert client.get("/static/swagger/swagger-ui-bundle.js").status_code == 200
    assert client.get("/static/swagger/swagger-ui.css").status_code == 200


def test_probes(client):
    assert client.get("/healthz").json() == {"status": "ok"}
    assert client.get("/readyz").json()["status"] == "ready"
    app = create_app(use_lifespan=False)
    assert TestClient(app).get("/readyz").status_code == 503


def test_text_length_limit(tiny_nlp):
    from api.settings import Settings, get_settings

    app = create_app(use_lifespan=False)
    app.state.nlp = tiny_nlp
    app.dependency_overrides[get_settings] = lambda: Settings(max_text_chars=50)
    c = TestClient(app, raise_server_exceptions=False)
    _shape(c.post("/v1/analyze", json={"text": "rude waiter " * 10}), 422, "E115")
    assert c.post("/v1/analyze", json={"text": "rude waiter"}).status_code == 200
    r = c.post("/v1/analyze/batch", json={"items": [{"text": "rude waiter " * 10}, {"text": "great food"}]}).json()
    assert [x["error"] and x["error"]["code"] for x in r["records"]] == ["E115", None]

"""The store behind the service: ingest (idempotent, PII-masked, keys required), roll-ups equal
to the library's, verbatims, taxonomy, model info, metrics, body limits."""

import pytest

pytest.importorskip("fastapi")
from fastapi.testclient import TestClient  # noqa: E402

from api.main import create_app  # noqa: E402
from api.settings import Settings, get_settings  # noqa: E402

KEY = {"X-API-Key": "s3cret"}


def make_client(tiny_nlp, tmp_path, **settings):
    from voc.store import Store

    app = create_app(use_lifespan=False)
    app.state.nlp = tiny_nlp
    app.state.store = Store(tmp_path / "api.duckdb")
    app.dependency_overrides[get_settings] = lambda: Settings(**settings)
    return TestClient(app, raise_server_exceptions=False)


@pytest.fixture
def client(tiny_nlp, tmp_path):
    return make_client(tiny_nlp, tmp_path, api_keys="s3cret,other")


DOCS = [{"id": f"d{i}", "text": t, "time": f"2026-11-0{1 + i % 7}T10:00:00", "channel": ["weibo", "app"][i % 2],
         "reach": i, "segments": {"city": ["上海", "北京"][i % 2]}}
        for i, t in enumerate(["服务员态度很差", "the waiter was rude", "菜很好吃", "great food", "送餐太慢了",
                               "rude waiter, terrible service"] * 6)]


def test_writes_need_a_key(tiny_nlp, tmp_path):
    open_client = make_client(tiny_nlp, tmp_path)  # no keys configured: reads open, writes refused
    r = open_client.post("/v1/documents", json={"documents": DOCS[:1]})
    assert r.status_code == 403 and r.json()["error"]["code"] == "E113"
    assert open_client.get("/v1/rollups").status_code == 200
    keyed = make_client(tiny_nlp, tmp_path, api_keys="s3cret")
    for headers in ({}, {"X-API-Key": "wrong"}, {"Authorization": "Bearer nope"}):
        r = keyed.post("/v1/documents", json={"documents": DOCS[:1]}, headers=headers)
        assert r.status_code == 401 and r.json()["error"]["code"] == "E112"
    assert keyed.get("/v1/rollups").status_code == 401           # with keys set, reads need one too
    assert keyed.post("/v1/analyze", json={"text": "x"}).status_code == 401
    assert keyed.get("/healthz").status_code == 200 and keyed.get("/readyz").status_code == 200
    assert keyed.post("/v1/documents", json={"documents": DOCS[:1]},
                      headers={"Authorization": "Bearer s3cret"}).status_code == 200


def test_ingest_is_idempotent_and_rollups_match_the_library(client):
    r = client.post("/v1/documents", json={"documents": DOCS}, headers=KEY)
    assert r.status_code == 200 and r.json()["ingested"] == 36 and r.json()["replaced"] == 0
    r = client.post("/v1/documents", json={"documents": DOCS[:6]}, headers=KEY)
    assert r.json()["replaced"] == 6
    store = client.app.state.store
    assert store.con.execute("select count(*), count(distinct id) from documents").fetchone() == (36, 36)
    from voc.rollup import RollupConfig, StoreSource, prioritize, rollup

    api_rows = client.get("/v1/rollups", params={"min_volume": 5}, headers=KEY).json()["rows"]
    lib_rows = rollup(StoreSource(store), config=RollupConfig.from_yaml(overrides={"min_volume": 5}))
    assert api_rows == lib_rows
    pr = client.get("/v1/priorities", params={"min_volume": 5}, headers=KEY).json()
    assert pr["key_experience"]["label"] == prioritize(StoreSource(store), config=RollupConfig.from_yaml(
        overrides={"min_volume": 5}))["key_experience"]["label"]
    by = client.get("/v1/rollups", params={"by": "label,city", "segment": "city:上海"}, headers=KEY).json()
    assert by["rows"] and {row["city"] for row in by["rows"]} == {"上海"}
    weekly = client.get("/v1/rollups", params={"bucket": "week", "channel": "weibo"}, headers=KEY).json()
    assert all(row["period"] for row in weekly["rows"])
    assert client.get("/v1/alerts", headers=KEY).json()["bucket"] == "week"


def test_bad_rollup_requests_are_coded(client):
    client.post("/v1/documents", json={"documents": DOCS[:3]}, headers=KEY)
    for params, code in (({"by": "label,brand"}, "E408"), ({"segment": "nope:1"}, "E408"),
                         ({"segment": "city"}, "E408"), ({"bucket": "fortnight"}, "E110"),
                         ({"from": "yesterday"}, "E110"), ({"from": "2026-13-45"}, "E408")):
        r = client.get("/v1/rollups", params=params, headers=KEY)
        assert r.status_code == 422 and r.json()["error"]["code"] == code, (params, r.text)
    r = client.get("/v1/rollups", params={"kind": "banana"}, headers=KEY)
    assert r.status_code == 422 and r.json()["error"]["code"] == "E110"


def test_ingest_masks_pii_and_reports_bad_documents(client):
    docs = [{"id": "p1", "text": "服务员态度很差，我的电话13812345678，邮箱 a.b@example.com"},
            {"id": "p2", "text": 42}, {"id": "p3", "text": ""}, {"id": "p4"}]
    r = client.post("/v1/documents", json={"documents": docs}, headers=KEY).json()
    assert r["ingested"] == 1 and r["pii_masked"] == 1
    assert [(e["id"], e["code"]) for e in r["errors"]] == [("p2", "E102"), ("p3", "E101"), ("p4", "E102")]
    text = client.app.state.store.con.execute("select text from documents where id = 'p1'").fetchone()[0]
    assert "13812345678" not in text and "example.com" not in text and text.startswith("服务员态度很差")
    v = client.get("/v1/verbatims", params={"touchpoint": "service"}, headers=KEY).json()["verbatims"]
    assert v and all("13812345678" not in (x["text"] or "") for x in v)
    s, e = v[0]["evidence"][0]
    assert v[0]["text"][s:e] in ("服务员", "态度")


def test_ingest_rejects_bad_segment_names_and_duplicate_ids(client):
    r = client.post("/v1/documents", json={"documents": [{"id": "a", "text": "x", "segments": {"Bad Name": "1"}}]},
                    headers=KEY)
    assert r.status_code == 422 and r.json()["error"]["code"] == "E110"
    r = client.post("/v1/documents", json={"documents": [{"id": "a", "text": "x"}, {"id": "a", "text": "y"}]},
                    headers=KEY)
    assert r.status_code == 422


def test_taxonomy_model_and_metrics(client):
    assert client.get("/v1/model", headers=KEY).json()["stages"][0] == "normalize"
    assert isinstance(client.get("/v1/taxonomy", headers=KEY).json(), dict)
    client.post("/v1/analyze", json={"text": "rude waiter"}, headers=KEY)
    client.post("/v1/analyze", json={"text": ""}, headers=KEY)
    body = client.get("/metrics").text
    assert 'voc_requests_total{method="POST",route="/v1/analyze",status="200"} 1.0' in body
    assert 'voc_errors_total{code="E101"} 1.0' in body
    assert "voc_request_seconds_bucket" in body and "voc_documents_scored_total 1.0" in body


def test_body_size_limit(tiny_nlp, tmp_path, monkeypatch):
    # The limit is read when the app is built: build one with a small limit.
    monkeypatch.setenv("VOC_MAX_BODY_BYTES", "200")
    get_settings.cache_clear()
    try:
        small = make_client(tiny_nlp, tmp_path)
    finally:
        get_settings.cache_clear()
    r = small.post("/v1/analyze", json={"text": "x" * 500})
    assert r.status_code == 413 and r.json()["error"]["code"] == "E106"
    assert small.post("/v1/analyze", json={"text": "rude waiter"}).status_code == 200

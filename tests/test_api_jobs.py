"""Upload a dump as a job: the same scoring as `voc score`, progress, results, coded errors."""

import io
import json
import time

import pytest

pytest.importorskip("fastapi")
pytest.importorskip("multipart")
from fastapi.testclient import TestClient  # noqa: E402

from api.main import create_app  # noqa: E402
from api.settings import Settings, get_settings  # noqa: E402

KEY = {"X-API-Key": "k"}


@pytest.fixture
def client(tiny_nlp, tmp_path):
    app = create_app(use_lifespan=False)
    app.state.nlp = tiny_nlp
    app.dependency_overrides[get_settings] = lambda: Settings(api_keys="k", jobs_dir=str(tmp_path / "jobs"))
    return TestClient(app, raise_server_exceptions=False)


def _wait(client, job_id, timeout=60):
    deadline = time.time() + timeout
    while time.time() < deadline:
        status = client.get(f"/v1/jobs/{job_id}", headers=KEY).json()
        if status["state"] in ("done", "failed"):
            return status
        time.sleep(0.05)
    raise AssertionError("job did not finish")


def test_upload_score_download(client):
    rows = "".join(f"p{i},{t},2026-11-0{1 + i % 5}\n" for i, t in enumerate(["rude waiter", "菜很好吃", "送餐太慢了"] * 20))
    data = ("post_id,body,day\n" + rows + "bad,,2026-11-01\n").encode("utf-8")
    r = client.post("/v1/jobs", headers=KEY, files={"file": ("dump.csv", io.BytesIO(data), "text/csv")},
                    data={"text_field": "body", "id_field": "post_id", "time_field": "day"})
    assert r.status_code == 202, r.text
    job = r.json()
    assert job["state"] == "queued" and set(job["links"]) == {"status", "documents", "mentions", "errors"}
    status = _wait(client, job["id"])
    assert status["state"] == "done", status
    s = status["summary"]
    assert s["read"] == 61 and s["scored"] == 60 and s["errors"] == 1 and s["errors_by_code"] == {"E101": 1}
    import pyarrow.parquet as pq

    doc = client.get(f"/v1/jobs/{job['id']}/results/documents", headers=KEY)
    assert doc.status_code == 200
    table = pq.read_table(io.BytesIO(doc.content))
    assert table.num_rows == 60 and str(table.column("time")[0].as_py()).startswith("2026-11-01")
    errs = client.get(f"/v1/jobs/{job['id']}/results/errors", headers=KEY).text.splitlines()
    assert [json.loads(e)["code"] for e in errs] == ["E101"]


def test_job_errors_are_coded(client, tmp_path):
    r = client.post("/v1/jobs", headers=KEY, files={"file": ("dump.xlsx", io.BytesIO(b"x"), "application/octet-stream")})
    assert r.status_code == 422 and r.json()["error"]["code"] == "E402"
    r = client.post("/v1/jobs", files={"file": ("dump.csv", io.BytesIO(b"text\nx\n"), "text/csv")})
    assert r.status_code == 401 and r.json()["error"]["code"] == "E112"
    assert client.get("/v1/jobs/" + "0" * 32, headers=KEY).json()["error"]["code"] == "E111"
    assert client.get("/v1/jobs/../../etc", headers=KEY).status_code == 404
    # a file-level problem (a GBK file) fails the job with the scorer's code, not the server
    r = client.post("/v1/jobs", headers=KEY, data={"text_field": "text"},
                    files={"file": ("gbk.csv", io.BytesIO("text\n服务员态度很差\n菜很好吃\n".encode("gbk")), "text/csv")})
    status = _wait(client, r.json()["id"])
    assert status["state"] == "failed" and status["error"]["code"] == "E403"
    r = client.get(f"/v1/jobs/{status['id']}/results/documents", headers=KEY)
    assert r.status_code == 409 and r.json()["error"]["code"] == "E114"

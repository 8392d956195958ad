"""The HTTP service under load and under fuzzing, on this machine's loopback only.

    python bench/bench_service.py load [--seconds 60] [--clients 32] [--workers 2]
    python bench/bench_service.py fuzz [--n 1000]

``load`` starts ``voc serve`` (uvicorn, ``--workers`` processes, 127.0.0.1, a free port), then
32 concurrent clients (one asyncio process, httpx) POST single short texts to /v1/analyze for
``--seconds``: requests/s, errors, client latency and the server time each response reports
(``Server-Timing``: ``app`` = the whole request inside the app, queueing for the analysis
lock included; ``analyze`` = the analysis and serialization of the text itself), and the server's memory (PSS of its process tree) at the start and end.
``fuzz`` sends ``--n`` random and malformed bodies (invalid UTF-8, over the size limit, deeply
nested, wrong types, lone surrogates, random bytes and JSON) to every POST endpoint and counts
the answers by status: every one must be a 4xx (or 200 for an accidentally valid body) with the
coded error shape; no 5xx. Results are printed and appended to bench/results/bench_service.jsonl.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "bench"))
from bench_score import _memory  # noqa: E402

TEXTS = ["送餐太慢了，汤都洒了", "服务员态度很好，菜也好吃", "The waiter was rude and the food was cold.",
         "app 一直闪退，付不了款", "Great coffee, friendly staff!", "快递三天才到，包装也破了",
         "退款申请了一周还没到账", "Checked in fast, the room was spotless.", "价格有点贵，但是味道不错",
         "My order never arrived and support never answered."]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start(workers: int, env_extra=None):
    port = free_port()
    tmp = tempfile.mkdtemp()
    env = {**os.environ, "VOC_STORE_PATH": f"{tmp}/svc.duckdb", "VOC_JOBS_DIR": f"{tmp}/jobs", **(env_extra or {})}
    p = subprocess.Popen([sys.executable, "-m", "voc.cli", "serve", "--host", "127.0.0.1", "--port", str(port),
                          "--workers", str(workers), "--log-level", "warning"], env=env,
                         stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    import httpx

    deadline = time.time() + 60
    while time.time() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=1).status_code == 200:
                return p, port
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    p.kill()
    raise RuntimeError("the service did not become ready: " + p.stderr.read().decode()[-2000:])


async def _load(port: int, clients: int, seconds: float, rate: float = 0):
    import httpx

    lat, server, analyze, errors, statuses = [], [], [], 0, {}
    stop = time.perf_counter() + seconds
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", limits=limits, timeout=10) as client:
        async def worker(k):
            nonlocal errors
            i = k
            gap = clients / rate if rate else 0  # each client's share of an open-loop request rate
            nxt = time.perf_counter() + gap * k / clients
            while time.perf_counter() < stop:
                if gap:
                    await asyncio.sleep(max(0.0, nxt - time.perf_counter()))
                    nxt += gap
                t = time.perf_counter()
                try:
                    r = await client.post("/v1/analyze", json={"text": TEXTS[i % len(TEXTS)], "id": str(i)})
                    statuses[r.status_code] = statuses.get(r.status_code, 0) + 1
                    if r.status_code != 200:
                        errors += 1
                    for part in r.headers.get("server-timing", "").split(","):
                        name, _, dur = part.strip().partition(";dur=")
                        if dur:
                            (server if name == "app" else analyze).append(float(dur))
                except httpx.HTTPError:
                    errors += 1
                lat.append((time.perf_counter() - t) * 1000)
                i += clients

        t0 = time.perf_counter()
        await asyncio.gather(*(worker(k) for k in range(clients)))
        wall = time.perf_counter() - t0
    return lat, server, analyze, errors, statuses, wall


def q(xs, p):
    xs = sorted(xs)
    return round(xs[min(len(xs) - 1, int(p * len(xs)))], 2) if xs else None


def bench_load_wrk(a) -> dict:
    """The same load from wrk (C, two threads): a load generator that takes little of the two cores."""
    p, port = start(a.workers)
    script = str(REPO / "bench" / "wrk_analyze.lua")
    url = f"http://127.0.0.1:{port}"
    try:
        mem0 = _memory(p.pid)[0]
        subprocess.run(["wrk", "-t2", f"-c{a.clients}", "-d3s", "-s", script, url], capture_output=True)  # warm-up
        mem1 = _memory(p.pid)[0]
        pace = [] if not a.rate else ["--", f"{1000.0 * a.clients / a.rate:.3f}"]  # ms between a connection's requests
        out = subprocess.run(["wrk", "-t2", f"-c{a.clients}", f"-d{int(a.seconds)}s", "--timeout", "10s", "-s",
                              script, url] + pace, capture_output=True, text=True).stdout
        mem2 = _memory(p.pid)[0]
    finally:
        p.terminate()
        p.wait(10)
    res = json.loads(out.split("WRKJSON ", 1)[1].splitlines()[0])
    return {"bench": "load-wrk", "workers": a.workers, "clients": a.clients, "rate": a.rate or None, **res,
            "requests_per_s": round(res["requests"] / res["seconds"], 1), "pss_mb_start": round(mem0 / 1e6),
            "pss_mb_after_warmup": round(mem1 / 1e6), "pss_mb_end": round(mem2 / 1e6)}


def bench_load(a) -> dict:
    if a.client == "wrk":
        return bench_load_wrk(a)
    p, port = start(a.workers)
    try:
        mem0 = _memory(p.pid)[0]
        asyncio.run(_load(port, a.clients, 3))  # warm-up: fork, jieba, caches
        mem1 = _memory(p.pid)[0]
        lat, server, analyze, errors, statuses, wall = asyncio.run(_load(port, a.clients, a.seconds, a.rate))
        mem2 = _memory(p.pid)[0]
    finally:
        p.terminate()
        p.wait(10)
    return {"bench": "load", "workers": a.workers, "clients": a.clients, "rate": a.rate, "seconds": round(wall, 1),
            "requests": len(lat), "requests_per_s": round(len(lat) / wall, 1), "errors": errors,
            "statuses": statuses, "client_p50_ms": q(lat, .5), "client_p99_ms": q(lat, .99),
            "server_p50_ms": q(server, .5), "server_p99_ms": q(server, .99),
            "server_mean_ms": round(statistics.mean(server), 2) if server else None,
            "analyze_p50_ms": q(analyze, .5), "analyze_p99_ms": q(analyze, .99),
            "pss_mb_start": round(mem0 / 1e6), "pss_mb_after_warmup": round(mem1 / 1e6),
            "pss_mb_end": round(mem2 / 1e6)}


def bodies(n: int, rng: random.Random):
    """Random and malformed request bodies: (label, bytes)."""
    kinds = []
    for i in range(n):
        k = i % 10
        if k == 0:
            b = bytes(rng.randrange(256) for _ in range(rng.randrange(1, 200)))
            kinds.append(("random bytes", b))
        elif k == 1:
            kinds.append(("invalid utf-8", b'{"text": "' + bytes([0xff, 0xfe, 0xc3]) * rng.randrange(1, 20) + b'"}'))
        elif k == 2:
            depth = rng.choice([50, 500, 5000, 50000])
            kinds.append((f"nested {depth}", (b'{"text": ' + b"[" * depth + b"]" * depth + b"}")))
        elif k == 3:
            kinds.append(("huge", b'{"text": "' + "好".encode() * rng.choice([10 ** 5, 4 * 10 ** 6]) + b'"}'))
        elif k == 4:
            v = rng.choice([5, 1.5, True, None, [], {}, ["a"], {"a": 1}, -1e308])
            kinds.append(("wrong type", json.dumps({"text": v, "id": v}).encode()))
        elif k == 5:
            kinds.append(("lone surrogate", ('{"text": "服务\\ud800差\\udfff", "id": "\\udc00"}').encode()))
        elif k == 6:
            kinds.append(("random json", json.dumps(rng.choice([[], {}, "x", 1, None, [{"text": "a"}],
                                                                 {"items": "x"}, {"items": [1, 2]},
                                                                 {"documents": [{"text": 1}]}])).encode()))
        elif k == 7:
            kinds.append(("truncated json", b'{"text": "abc'))
        elif k == 8:
            kinds.append(("empty", b""))
        else:
            items = [{"text": rng.choice(["", " ", "好", None, 3, "x" * 30000]), "id": rng.choice([None, 1, "a"])}
                     for _ in range(rng.randrange(0, 30))]
            kinds.append(("batch items", json.dumps({"items": items, "documents": items}).encode()))
    return kinds


def bench_fuzz(a) -> dict:
    import httpx

    p, port = start(1, {"VOC_API_KEYS": "k", "VOC_MAX_BODY_BYTES": "1000000"})
    rng = random.Random(0)
    counts, bad, shape_errors = {}, [], 0
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30, headers={"x-api-key": "k"}) as c:
            for label, body in bodies(a.n, rng):
                path = rng.choice(["/v1/analyze", "/v1/analyze/batch", "/v1/documents"])
                ctype = rng.choice(["application/json", "application/json; charset=utf-8", "text/plain"])
                r = c.post(path, content=body, headers={"content-type": ctype})
                counts[r.status_code] = counts.get(r.status_code, 0) + 1
                if r.status_code >= 500:
                    bad.append((label, path, r.status_code, r.text[:200]))
                elif r.status_code >= 400:
                    try:
                        e = r.json()["error"]
                        assert e["code"].startswith("E") and e["message"]
                    except Exception:  # noqa: BLE001 - counted
                        shape_errors += 1
    finally:
        p.terminate()
        p.wait(10)
    return {"bench": "fuzz", "requests": a.n, "by_status": dict(sorted(counts.items())), "5xx": len(bad),
            "without_coded_error_shape": shape_errors, "first_5xx": bad[:5]}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="what", required=True)
    lo = sub.add_parser("load")
    lo.add_argument("--seconds", type=float, default=60)
    lo.add_argument("--clients", type=int, default=32)
    lo.add_argument("--workers", type=int, default=2)
    lo.add_argument("--client", choices=("wrk", "httpx"), default="wrk",
                    help="load generator: wrk (apt-get install wrk; default) or httpx (Python, heavier)")
    lo.add_argument("--rate", type=float, default=0, help="requests/s in total, paced (wrk: a fixed delay "
                    "between each connection's requests; httpx: open loop); 0 = as fast as the clients go")
    fz = sub.add_parser("fuzz")
    fz.add_argument("--n", type=int, default=1000)
    a = ap.parse_args(argv)
    res = {"load": bench_load, "fuzz": bench_fuzz}[a.what](a)
    res["date"] = time.strftime("%Y-%m-%d %H:%M")
    print(json.dumps(res, ensure_ascii=False))
    (REPO / "bench" / "results").mkdir(parents=True, exist_ok=True)
    with open(REPO / "bench" / "results" / "bench_service.jsonl", "a") as f:
        f.write(json.dumps(res, ensure_ascii=False) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())

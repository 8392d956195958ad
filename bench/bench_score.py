"""Batch scoring, roll-up and report at scale.

    python bench/bench_score.py score --rows 100000 [--workers 2]     # dump -> Parquet + DuckDB
    python bench/bench_score.py rollup --db bench/results/score_1m.duckdb --mentions 10000000
    python bench/bench_score.py report --db bench/results/score_1m.duckdb

``score`` generates the dump with bench/make_dump.py when missing, runs ``voc score`` in a
subprocess and samples the memory of its whole process tree every 0.2 s: the sum of PSS
(proportional set size: pages shared copy-on-write between the workers are split between
them, not counted twice) and of RSS. ``rollup`` copies the store's mentions (shifting rows
and times) until it holds the requested count, then times roll-ups by touchpoint × week ×
channel through :class:`voc.rollup.StoreSource` (first call and median of 5). ``report``
times ``voc report``. Results are printed and appended to bench/results/bench_score.jsonl.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
RESULTS = REPO / "bench" / "results"
sys.path.insert(0, str(REPO))


def _tree(pid: int):
    kids = {pid}
    try:
        for p in os.listdir("/proc"):
            if p.isdigit():
                try:
                    with open(f"/proc/{p}/stat") as f:
                        ppid = int(f.read().rsplit(")", 1)[1].split()[1])
                    if ppid in kids:
                        kids.add(int(p))
                except OSError:
                    continue
    except OSError:
        pass
    return kids


def _memory(pid: int):
    pss = rss = 0
    for p in _tree(pid):
        try:
            with open(f"/proc/{p}/smaps_rollup") as f:
                for line in f:
                    if line.startswith("Pss:"):
                        pss += int(line.split()[1])
                    elif line.startswith("Rss:"):
                        rss += int(line.split()[1])
        except OSError:
            continue
    return pss * 1024, rss * 1024


def run_measured(cmd):
    t = time.perf_counter()
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    peak_pss = peak_rss = 0
    while p.poll() is None:
        pss, rss = _memory(p.pid)
        peak_pss, peak_rss = max(peak_pss, pss), max(peak_rss, rss)
        time.sleep(0.2)
    out, err = p.communicate()
    return {"seconds": round(time.perf_counter() - t, 2), "peak_pss_mb": round(peak_pss / 1e6),
            "peak_rss_mb": round(peak_rss / 1e6), "returncode": p.returncode, "stdout": out, "stderr": err[-2000:]}


def bench_score(a) -> dict:
    tag = f"{a.rows // 1000}k" if a.rows < 1_000_000 else f"{a.rows // 1_000_000}m"
    dump = RESULTS / f"dump_{tag}.parquet"
    if not dump.exists():
        subprocess.run([sys.executable, str(REPO / "bench" / "make_dump.py"), "--rows", str(a.rows), "--out",
                        str(dump)], check=True)
    out, db = RESULTS / f"score_{tag}.parquet", RESULTS / f"score_{tag}.duckdb"
    for p in (db, Path(str(db) + ".wal")):
        p.unlink(missing_ok=True)
    cmd = [sys.executable, "-m", "voc.cli", "score", str(dump), "--output", str(out), "--db", str(db),
           "--id-field", "post_id", "--time-field", "created_at", "--channel-field", "platform",
           "--customer-field", "user_id", "--reach-field", "reposts", "--segment-field", "brand",
           "--segment-field", "region", "--workers", str(a.workers), "--force", "--quiet"]
    r = run_measured(cmd)
    summary = json.loads(r["stdout"]) if r["returncode"] in (0, 1) else None
    res = {"bench": "score", "rows": a.rows, "workers": a.workers, "seconds": r["seconds"],
           "rows_per_second": round(a.rows / r["seconds"]), "peak_pss_mb": r["peak_pss_mb"],
           "peak_rss_mb": r["peak_rss_mb"], "returncode": r["returncode"],
           "scored": summary and summary["scored"], "errors": summary and summary["errors"],
           "mentions": summary and summary["mentions"], "output_mb": round(out.stat().st_size / 1e6, 1)
           if out.exists() else None, "db_mb": round(db.stat().st_size / 1e6, 1) if db.exists() else None}
    if r["returncode"] not in (0, 1):
        res["stderr"] = r["stderr"]
    return res


def bench_rollup(a) -> dict:
    import duckdb

    from voc.rollup import StoreSource, rollup
    from voc.store import Store

    big = RESULTS / f"rollup_{a.mentions // 1_000_000}m.duckdb"
    if not big.exists():
        con = duckdb.connect(str(big))
        con.execute(f"ATTACH '{a.db}' AS src (READ_ONLY)")
        con.execute("CREATE TABLE documents AS SELECT * FROM src.documents LIMIT 0")
        con.execute("CREATE TABLE errors AS SELECT * FROM src.errors LIMIT 0")
        con.execute("CREATE TABLE runs AS SELECT * FROM src.runs")
        con.execute("CREATE TABLE mentions AS SELECT * FROM src.mentions")
        n = con.execute("SELECT count(*) FROM mentions").fetchone()[0]
        k = 1
        while n < a.mentions:
            take = min(n, a.mentions - n)
            con.execute(f"""INSERT INTO mentions SELECT * REPLACE (row + {k} * 10000000 AS row,
                            time + INTERVAL ({k % 7}) DAY AS time) FROM mentions LIMIT {take}""")
            n += take
            k += 1
        con.close()
    store = Store(big, read_only=True)
    src = StoreSource(store)
    n = store.count("mentions")
    times = []
    for i in range(6):
        t = time.perf_counter()
        rows = rollup(src, "touchpoint", ("label", "channel"), "week")
        times.append(time.perf_counter() - t)
    return {"bench": "rollup", "mentions": n, "groups": len(rows), "first_s": round(times[0], 3),
            "median_s": round(statistics.median(times[1:]), 3), "all_s": [round(x, 3) for x in times]}


def bench_report(a) -> dict:
    out = RESULTS / "report.html"
    r = run_measured([sys.executable, "-m", "voc.cli", "report", "--db", str(a.db), "--output", str(out)])
    return {"bench": "report", "db": str(a.db), "seconds": r["seconds"], "peak_pss_mb": r["peak_pss_mb"],
            "bytes": out.stat().st_size if out.exists() else None, "returncode": r["returncode"],
            "stderr": r["stderr"][-300:]}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="what", required=True)
    s = sub.add_parser("score")
    s.add_argument("--rows", type=int, default=100_000)
    s.add_argument("--workers", type=int, default=2)
    r = sub.add_parser("rollup")
    r.add_argument("--db", type=Path, default=RESULTS / "score_1m.duckdb")
    r.add_argument("--mentions", type=int, default=10_000_000)
    p = sub.add_parser("report")
    p.add_argument("--db", type=Path, default=RESULTS / "score_1m.duckdb")
    a = ap.parse_args(argv)
    RESULTS.mkdir(parents=True, exist_ok=True)
    res = {"score": bench_score, "rollup": bench_rollup, "report": bench_report}[a.what](a)
    res["date"] = time.strftime("%Y-%m-%d %H:%M")
    print(json.dumps(res))
    with open(RESULTS / "bench_score.jsonl", "a") as f:
        f.write(json.dumps(res) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())

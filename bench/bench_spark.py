"""Spark's overhead and scaling on this machine: `voc score --engine spark` in local mode against
the single-machine `voc score --workers 2`, on the same Parquet dump.

    python bench/bench_spark.py --rows 1000000                    # local[2] vs --workers 2 (the ratio)
    python bench/bench_spark.py --rows 200000 --masters local[1] local[2] --no-local   # scaling

Each run is a fresh `voc` process (Spark's JVM start, the model load and the Parquet writes
included, as a user runs it); outputs go to bench/results/ (ignored by git). Results are
appended to bench/results/bench_spark.jsonl.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
RESULTS = REPO / "bench" / "results"
FIELDS = ["--id-field", "post_id", "--time-field", "created_at", "--channel-field", "platform",
          "--customer-field", "user_id", "--reach-field", "reposts", "--segment-field", "brand",
          "--segment-field", "region"]


def dump_for(rows: int) -> Path:
    tag = f"{rows // 1000}k" if rows < 1_000_000 else f"{rows // 1_000_000}m"
    dump = RESULTS / f"dump_{tag}.parquet"
    if not dump.exists():
        subprocess.run([sys.executable, str(REPO / "bench" / "make_dump.py"), "--rows", str(rows), "--out",
                        str(dump)], check=True)
    return dump


def run(cmd) -> dict:
    t = time.perf_counter()
    p = subprocess.run(cmd, capture_output=True, text=True)
    secs = time.perf_counter() - t
    summary = None
    for line in reversed(p.stdout.strip().splitlines()):
        try:
            summary = json.loads(line)
            break
        except ValueError:
            continue
    return {"seconds": round(secs, 1), "returncode": p.returncode, "summary": summary,
            "stderr": p.stderr[-1500:] if p.returncode != 0 else None}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--masters", nargs="+", default=["local[2]"])
    ap.add_argument("--partitions", type=int, default=None, help="repartition the input (default: as read)")
    ap.add_argument("--no-local", action="store_true", help="skip the single-machine run")
    a = ap.parse_args(argv)
    dump = dump_for(a.rows)
    RESULTS.mkdir(exist_ok=True)
    results = []
    if not a.no_local:
        out = RESULTS / "spark_cmp_local.parquet"
        r = run([sys.executable, "-m", "voc.cli", "score", str(dump), "--output", str(out), *FIELDS, "--workers", "2",
                 "--force", "--quiet"])
        results.append({"engine": "local", "workers": 2, **r})
    for master in a.masters:
        out = RESULTS / f"spark_out_{master.replace('[', '_').replace(']', '')}"
        cmd = [sys.executable, "-m", "voc.cli", "score", str(dump), "--engine", "spark", "--master", master,
               "--output", str(out), *FIELDS, "--quiet"]
        if a.partitions:
            cmd += ["--partitions", str(a.partitions)]
        r = run(cmd)
        results.append({"engine": "spark", "master": master, **r})
    for r in results:
        r.update(rows=a.rows, rows_per_second=round(a.rows / r["seconds"], 1),
                 date=time.strftime("%Y-%m-%dT%H:%M:%S"))
        s = r.pop("summary") or {}
        r.update({k: s.get(k) for k in ("read", "scored", "errors", "mentions")})
        print(json.dumps(r))
        with open(RESULTS / "bench_spark.jsonl", "a") as f:
            f.write(json.dumps(r) + "\n")
    by = {(r["engine"], r.get("master")): r for r in results}
    local = by.get(("local", None))
    for (engine, master), r in by.items():
        if engine == "spark" and local:
            print(f"{master}: {r['rows_per_second']:,.0f} rows/s; single-machine --workers 2: "
                  f"{local['rows_per_second']:,.0f} rows/s; Spark/local = {r['rows_per_second'] / local['rows_per_second']:.2f}")
    if ("spark", "local[1]") in by and ("spark", "local[2]") in by:
        print(f"local[1] -> local[2]: {by[('spark', 'local[2]')]['rows_per_second'] / by[('spark', 'local[1]')]['rows_per_second']:.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())

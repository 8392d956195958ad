"""The batch issue's "done means": score a 1M-row dump, SIGKILL it half-way, --resume, and
check every id is in the output exactly once (Parquet and the DuckDB store).

    python bench/kill_resume.py [--rows 1000000] [--kill-at 500000]
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
RESULTS = REPO / "bench" / "results"


def main(argv=None) -> int:
    import duckdb

    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--kill-at", type=int, default=500_000)
    a = ap.parse_args(argv)
    tag = f"{a.rows // 1000}k" if a.rows < 1_000_000 else f"{a.rows // 1_000_000}m"
    dump = RESULTS / f"dump_{tag}.parquet"
    if not dump.exists():
        subprocess.run([sys.executable, str(REPO / "bench" / "make_dump.py"), "--rows", str(a.rows), "--out",
                        str(dump)], check=True)
    out, db = RESULTS / "kill.parquet", RESULTS / "kill.duckdb"
    for p in (db, Path(str(db) + ".wal")):
        p.unlink(missing_ok=True)
    cmd = [sys.executable, "-m", "voc.cli", "score", str(dump), "--output", str(out), "--db", str(db),
           "--id-field", "post_id", "--time-field", "created_at", "--channel-field", "platform",
           "--workers", "2", "--quiet"]
    ck = RESULTS / "kill.checkpoint.json"
    t = time.perf_counter()
    p = subprocess.Popen(cmd + ["--force"], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                         start_new_session=True)
    done = 0
    while p.poll() is None:
        try:
            done = json.loads(ck.read_text())["rows_done"]
        except (OSError, ValueError, KeyError):
            pass
        if done >= a.kill_at:
            break
        time.sleep(0.2)
    os.killpg(p.pid, signal.SIGKILL)
    p.wait()
    killed_after = time.perf_counter() - t
    state = json.loads(ck.read_text())
    t = time.perf_counter()
    r = subprocess.run(cmd + ["--resume"], capture_output=True, text=True)
    summary = json.loads(r.stdout)
    con = duckdb.connect()
    pq_total, pq_distinct = con.execute(f"SELECT count(*), count(DISTINCT id) FROM '{out}'").fetchone()
    con.execute(f"ATTACH '{db}' AS s (READ_ONLY)")
    db_total, db_distinct = con.execute("SELECT count(*), count(DISTINCT id) FROM s.documents").fetchone()
    res = {"rows": a.rows, "killed_after_s": round(killed_after, 1), "checkpoint_rows_done": state["rows_done"],
           "resume_s": round(time.perf_counter() - t, 1), "resume_returncode": r.returncode,
           "summary_read": summary["read"], "summary_scored": summary["scored"], "summary_errors": summary["errors"],
           "parquet_rows": pq_total, "parquet_distinct_ids": pq_distinct, "db_rows": db_total,
           "db_distinct_ids": db_distinct,
           "exactly_once": pq_total == pq_distinct == db_total == db_distinct == a.rows - summary["errors"]}
    print(json.dumps(res))
    return 0 if res["exactly_once"] else 1


if __name__ == "__main__":
    sys.exit(main())

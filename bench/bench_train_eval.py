"""Wall time and peak memory of `voc train` and `voc eval`, run as a user runs them.

    python bench/bench_train_eval.py [--train-rows 5000] [--eval-rows 10000] [--json OUT]

Data: the airline export (``python -m training.export_labelled airline``, written to a
temporary folder): the first ``--train-rows`` rows of its train split for `voc train`
(classical model, taxonomy ``data/taxonomies/airline.yaml``), and ``--eval-rows`` rows
(train + test splits, recycled if needed) for `voc eval`, once without and once with the
installed peers. Each command runs in a fresh process; the time includes start-up.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def run(cmd):
    t = time.perf_counter()
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    proc = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True)
    secs = time.perf_counter() - t
    if proc.returncode not in (0, 1):
        sys.stderr.write(proc.stderr)
        raise SystemExit(f"failed: {' '.join(cmd)}")
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return {"seconds": round(secs, 1), "peak_rss_mb_max_so_far": round(max(peak, before) / 1024, 0)}


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--train-rows", type=int, default=5000)
    ap.add_argument("--eval-rows", type=int, default=10000)
    ap.add_argument("--json", help="also write the figures to this file")
    args = ap.parse_args(argv)
    py = sys.executable
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        subprocess.run([py, "-m", "training.export_labelled", "airline", "--out", str(tmp)], cwd=REPO, check=True,
                       capture_output=True)
        train_lines = (tmp / "train.jsonl").read_text(encoding="utf-8").splitlines()
        all_lines = train_lines + (tmp / "test.jsonl").read_text(encoding="utf-8").splitlines()
        (tmp / "bench_train.jsonl").write_text("\n".join(train_lines[: args.train_rows]) + "\n", encoding="utf-8")
        ev = [all_lines[i % len(all_lines)] for i in range(args.eval_rows)]
        (tmp / "bench_eval.jsonl").write_text("\n".join(ev) + "\n", encoding="utf-8")
        voc = [py, "-m", "voc.cli"]
        res = {"train_rows": args.train_rows, "eval_rows": args.eval_rows}
        res["train"] = run(voc + ["train", "--taxonomy", "data/taxonomies/airline.yaml", "--data",
                                  str(tmp / "bench_train.jsonl"), "--output", str(tmp / "model"), "-q"])
        res["eval_no_peers"] = run(voc + ["eval", "--model", str(tmp / "model"), "--data", str(tmp / "bench_eval.jsonl"),
                                          "--no-peers", "--output", str(tmp / "report")])
        res["eval_no_peers"]["voc_texts_per_second"] = json.loads(
            (tmp / "report.json").read_text())["throughput"]["texts_per_second"]
        res["eval_with_peers"] = run(voc + ["eval", "--model", str(tmp / "model"), "--data",
                                            str(tmp / "bench_eval.jsonl"), "--output", str(tmp / "report2")])
        peers = json.loads((tmp / "report2.json").read_text()).get("peers", {})
        res["eval_with_peers"]["peers"] = sorted(k for k in peers if k != "not_installed")
    print(json.dumps(res, indent=2))
    if args.json:
        Path(args.json).write_text(json.dumps(res, indent=2))


if __name__ == "__main__":
    main()

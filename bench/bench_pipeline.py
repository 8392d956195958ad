"""Throughput, cold start, memory and size of a voc model.

    python bench/bench_pipeline.py [--model PATH] [--n-short 6000] [--n-long 1500] [--json OUT]

Short posts: ~70-character texts (Weibo posts, airline tweets, food-delivery reviews from
../shared/data, 50-90 characters). Long reviews: ~350-character restaurant reviews (ASAP
and SemEval reviews, 250-450 characters), recycled to the requested count.
Throughput goes through ``nlp.pipe`` with 1 and 2 processes (each figure the median of
``--repeat`` runs, all runs listed; the 2-process runs include starting the worker pool);
cold start and peak memory are measured in fresh subprocesses.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))


def corpus_texts():
    from training import corpora

    short = [r.text for c in ("clue_emotion_test", "airline", "waimai") for r in corpora.read(c) if 50 <= len(r.text) <= 90]
    long = [r.text for c in ("asap_test", "asap_dev", "asap_train", "semeval16_test_reviews", "semeval16_train_reviews")
            for r in corpora.read(c) if 250 <= len(r.text) <= 450]
    return short, long


def take(texts, n):
    return [texts[i % len(texts)] for i in range(n)]


def rate(nlp, texts, n_process, batch_size=512):
    t = time.perf_counter()
    k = sum(1 for _ in nlp.pipe(texts, batch_size=batch_size, n_process=n_process))
    return k / (time.perf_counter() - t)


COLD = """
import time, resource, sys
t0 = time.perf_counter()
import voc
nlp = voc.load({model!r})
t1 = time.perf_counter()
nlp("这家店的服务态度很差，再也不来了")
nlp("The waiter was rude.")
t2 = time.perf_counter()
print(t1 - t0, t2 - t0, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
"""

PEAK = """
import resource, sys, json
sys.path.insert(0, {repo!r})
import voc
nlp = voc.load({model!r})
texts = json.load(open({path!r}))
for _ in nlp.pipe(texts, batch_size=512):
    pass
print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
"""


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--model", default=str(REPO / "models/voc-default"))
    ap.add_argument("--n-short", type=int, default=6000)
    ap.add_argument("--n-long", type=int, default=1500)
    ap.add_argument("--repeat", type=int, default=3, help="runs per throughput figure; the median is reported")
    ap.add_argument("--json", help="write the figures to this file")
    args = ap.parse_args()
    import voc

    short, long = corpus_texts()
    short, long = take(short, args.n_short), take(long, args.n_long)
    res = {"short_mean_chars": round(sum(map(len, short)) / len(short), 1),
           "long_mean_chars": round(sum(map(len, long)) / len(long), 1), "cpu_count": os.cpu_count()}
    colds = []
    for _ in range(3):
        out = subprocess.run([sys.executable, "-c", COLD.format(model=args.model)], capture_output=True, text=True,
                             cwd=REPO, check=True).stdout.split()
        colds.append([float(x) for x in out])
    best = min(colds)
    res.update(cold_import_load_s=round(best[0], 3), cold_first_docs_s=round(best[1], 3))
    nlp = voc.load(args.model)
    nlp("预热 warm up")
    for name, texts in (("short", short), ("long", long)):
        for n_process in (1, 2):
            runs = sorted(round(rate(nlp, texts, n_process), 1) for _ in range(args.repeat))
            res[f"{name}_per_s_{n_process}proc"] = runs[len(runs) // 2]  # the median run
            res[f"{name}_per_s_{n_process}proc_runs"] = runs
    tmp = Path("/tmp/voc_bench_texts.json")
    tmp.write_text(json.dumps(short + long, ensure_ascii=False))
    out = subprocess.run([sys.executable, "-c", PEAK.format(repo=str(REPO), model=args.model, path=str(tmp))],
                         capture_output=True, text=True, check=True).stdout
    res["peak_rss_mb"] = round(float(out.split()[-1]), 1)
    size = sum(p.stat().st_size for p in Path(args.model).rglob("*") if p.is_file())
    res["model_mb"] = round(size / 2**20, 2)
    all_models = sum(p.stat().st_size for p in (REPO / "models").rglob("*") if p.is_file())
    res["models_dir_mb"] = round(all_models / 2**20, 2)
    print(json.dumps(res, indent=2))
    if args.json:
        Path(args.json).write_text(json.dumps(res, indent=2))


if __name__ == "__main__":
    main()

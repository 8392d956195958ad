"""How far two processes can speed up analysis on this machine, and how close voc gets.

    python bench/bench_scaling.py [--n-short 30000] [--n-long 6000] [--repeat 3]

For short posts (~70 characters) and long reviews (~330), the same texts as
bench/bench_pipeline.py:
- ``one``: one process, ``nlp.pipe``-equivalent batches of 256;
- ``ceiling``: the texts split in two halves analysed by two forked processes that share
  nothing and send nothing back (no pickling, no ordering): what the hardware allows;
- ``engine``: ``nlp.pipe(texts, n_process=2)`` (the shared batch engine: one forked worker plus
  the calling process, results in order).
Each figure is the median of ``--repeat`` runs (docs/s); speed-ups are against ``one``.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import statistics
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))


def one(nlp, texts, bs=256):
    t = time.perf_counter()
    for i in range(0, len(texts), bs):
        nlp._run([nlp.make_doc(x) for x in texts[i:i + bs]])
    return len(texts) / (time.perf_counter() - t)


def ceiling(nlp, texts):
    half = len(texts) // 2
    t = time.perf_counter()
    pids = []
    for k in range(2):
        pid = os.fork()
        if pid == 0:
            one(nlp, texts[k * half:(k + 1) * half])
            os._exit(0)
        pids.append(pid)
    for p in pids:
        os.waitpid(p, 0)
    return 2 * half / (time.perf_counter() - t)


def engine(nlp, texts):
    t = time.perf_counter()
    n = sum(1 for _ in nlp.pipe(texts, batch_size=256, n_process=2))
    return n / (time.perf_counter() - t)


def main(argv=None) -> int:
    import voc
    from bench_pipeline import corpus_texts, take

    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n-short", type=int, default=30000)
    ap.add_argument("--n-long", type=int, default=6000)
    ap.add_argument("--repeat", type=int, default=3)
    a = ap.parse_args(argv)
    short, long_ = corpus_texts()
    nlp = voc.load()
    nlp.warm()
    gc.freeze()
    out = {}
    for name, texts in (("short", take(short, a.n_short)), ("long", take(long_, a.n_long))):
        res = {k: statistics.median(f(nlp, texts) for _ in range(a.repeat))
               for k, f in (("one", one), ("ceiling", ceiling), ("engine", engine))}
        out[name] = {"docs": len(texts), **{f"{k}_per_s": round(v) for k, v in res.items()},
                     "ceiling_speedup": round(res["ceiling"] / res["one"], 2),
                     "engine_speedup": round(res["engine"] / res["one"], 2),
                     "engine_of_ceiling": round(res["engine"] / res["ceiling"], 2)}
        print(name, json.dumps(out[name]), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Generate a social-media dump of real-looking posts by resampling the shared corpora.

    python bench/make_dump.py --rows 1000000 --out bench/results/dump_1m.parquet [--seed 0]

Texts are drawn from ../shared/data (Weibo posts, food-delivery, e-commerce and hotel
reviews, airline and brand-support tweets, car-forum posts), kept at most 200 characters
(short posts), ~55% Chinese. Each row gets an id, a time over 26 weeks (with a weekly
rhythm), a platform, a customer id (Zipf-like: a few customers post often), reach
(followers-like, heavy-tailed), a brand and a region. The dump stays outside git
(bench/results/ is ignored) because it holds the corpora's texts.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

SOURCES = {  # corpus: (platform, weight)
    "clue_emotion_test": ("weibo", 3), "clue_emotion_valid": ("weibo", 3), "waimai": ("meituan", 3),
    "online_shopping": ("jd", 4), "chnsenticorp_htl": ("ctrip", 1), "ccf_car": ("autohome", 1),
    "airline": ("twitter", 3), "complaints": ("twitter", 2), "bitext": ("webchat", 1), "banking77_train": ("app", 2),
    "semeval16_train": ("yelp", 1),
}


def pools(max_chars: int = 200):
    from training import corpora

    out = {}
    for name, (platform, weight) in SOURCES.items():
        if name not in corpora.CORPORA:
            continue
        texts = [r.text for r in corpora.read(name) if 4 <= len(r.text) <= max_chars]
        if texts:
            out[name] = (platform, weight, texts)
    return out


def make(rows: int, out: Path, seed: int = 0, batch: int = 100_000) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    rng = random.Random(seed)
    ps = pools()
    names = list(ps)
    weights = [ps[n][1] * len(ps[n][2]) ** 0.5 for n in names]
    start = datetime(2026, 5, 4)
    brands, regions = ["A", "B", "C"], ["north", "south", "east", "west", "hk-tw"]
    schema = pa.schema([("post_id", pa.string()), ("text", pa.string()), ("created_at", pa.string()),
                        ("platform", pa.string()), ("user_id", pa.string()), ("reposts", pa.int64()),
                        ("brand", pa.string()), ("region", pa.string())])
    out.parent.mkdir(parents=True, exist_ok=True)
    with pq.ParquetWriter(out, schema, compression="zstd") as w:
        done = 0
        while done < rows:
            n = min(batch, rows - done)
            cols = {k: [] for k in schema.names}
            for i in range(done, done + n):
                src = rng.choices(names, weights)[0]
                platform, _, texts = ps[src]
                cols["post_id"].append(f"p{i:09d}")
                cols["text"].append(rng.choice(texts))
                t = start + timedelta(seconds=rng.randrange(26 * 7 * 86400))
                cols["created_at"].append(t.isoformat(timespec="seconds"))
                cols["platform"].append(platform)
                cols["user_id"].append(f"u{int(rng.paretovariate(1.2) * 1000) % 400_000}")
                cols["reposts"].append(int(rng.paretovariate(1.1)) - 1)
                cols["brand"].append(rng.choice(brands))
                cols["region"].append(rng.choice(regions))
            w.write_table(pa.table(cols, schema=schema))
            done += n


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--out", type=Path, default=REPO / "bench" / "results" / "dump_1m.parquet")
    ap.add_argument("--seed", type=int, default=0)
    a = ap.parse_args(argv)
    t = time.perf_counter()
    make(a.rows, a.out, a.seed)
    print(f"wrote {a.rows:,} rows to {a.out} in {time.perf_counter() - t:.1f} s ({a.out.stat().st_size / 1e6:.0f} MB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())

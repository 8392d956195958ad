"""Rows for the Chinese sentiment *dev* set (neutral calibration), disjoint from the gold set.

    python -m training.dev_sample > /tmp/zh_dev.jsonl           # the first 220 rows
    python -m training.dev_sample --more > /tmp/zh_dev_more.jsonl  # 240 more, disjoint from those

The dev set (``data/dev/zh_sentiment.jsonl``, references + 3-class labels) tunes the
Chinese neutral threshold; the gold set stays untouched for the final report.
"""

import json
import random
import sys
from pathlib import Path

from training import corpora
from training.gold_sample import gold_refs

SEED = 7
DEV_FILE = Path(__file__).resolve().parents[1] / "data/dev/zh_sentiment.jsonl"


def dev_rows() -> list:
    """The labelled dev rows: ``{"corpus", "id", "sentiment"}`` references, in file order."""
    return [json.loads(x) for x in DEV_FILE.read_text(encoding="utf-8").splitlines() if x.strip()]


def sample():
    gold = gold_refs()
    rng = random.Random(SEED)
    out = []
    for corpus, n in (("clue_emotion_test", 160), ("online_shopping", 40), ("waimai", 20)):
        recs = [r for r in corpora.read(corpus) if (r.corpus, r.id) not in gold and 4 <= len(r.text) <= 400]
        out += rng.sample(recs, n)
    return out


def sample_more():
    """A second draw (its own seed) that avoids the gold set and the first draw."""
    taken = gold_refs() | {(r.corpus, r.id) for r in sample()}
    rng = random.Random(SEED + 1)
    out = []
    for corpus, n in (("clue_emotion_test", 160), ("online_shopping", 40), ("waimai", 20), ("chnsenticorp_htl", 20)):
        recs = [r for r in corpora.read(corpus) if (r.corpus, r.id) not in taken and 4 <= len(r.text) <= 400]
        out += rng.sample(recs, n)
    return out


if __name__ == "__main__":
    for r in (sample_more() if "--more" in sys.argv[1:] else sample()):
        print(json.dumps({"corpus": r.corpus, "id": r.id, "text": r.text}, ensure_ascii=False))

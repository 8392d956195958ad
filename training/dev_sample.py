"""Rows for the Chinese sentiment *dev* set (neutral calibration), disjoint from the gold set.

    python -m training.dev_sample > /tmp/zh_dev.jsonl

The dev set (``data/dev/zh_sentiment.jsonl``, references + 3-class labels) tunes the
Chinese neutral threshold; the gold set stays untouched for the final report.
"""

import json
import random

from training import corpora
from training.gold_sample import gold_refs

SEED = 7


def sample():
    gold = gold_refs()
    rng = random.Random(SEED)
    out = []
    for corpus, n in (("clue_emotion_test", 160), ("online_shopping", 40), ("waimai", 20)):
        recs = [r for r in corpora.read(corpus) if (r.corpus, r.id) not in gold and 4 <= len(r.text) <= 400]
        out += rng.sample(recs, n)
    return out


if __name__ == "__main__":
    for r in sample():
        print(json.dumps({"corpus": r.corpus, "id": r.id, "text": r.text}, ensure_ascii=False))

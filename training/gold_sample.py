"""Pick the rows of a gold-set slice deterministically and print them for labelling.

The printed texts are for the labeller's eyes only: gold files in ``data/gold/`` store
``corpus`` + ``id`` references and labels, never the texts.

    python -m training.gold_sample SLICE > /tmp/SLICE.jsonl
"""

from __future__ import annotations

import json
import random
import sys

from training import corpora

# slice -> [(corpus, n, stratify_key or None)]
SLICES = {
    "zh_restaurant": [("asap_test", 100, None)],
    "zh_reviews": [("waimai", 60, "label"), ("online_shopping", 60, "cat"), ("chnsenticorp_htl", 40, "label")],
    "zh_weibo": [("clue_emotion_test", 120, "emotion")],
    "en_reviews": [("semeval16_test_reviews", 60, None), ("semeval15_hotels", 40, None)],
    "en_social": [("airline", 80, "sentiment"), ("complaints", 80, "complaint")],
}
SEED = 20261123


def sample(slice_name: str):
    rng = random.Random(f"{SEED}-{slice_name}")
    out = []
    for corpus, n, key in SLICES[slice_name]:
        recs = [r for r in corpora.read(corpus) if r.text.strip() and len(r.text) <= 1500]
        if key is None:
            picked = rng.sample(recs, min(n, len(recs)))
        else:
            groups: dict = {}
            for r in recs:
                groups.setdefault(str(r.meta[key]), []).append(r)
            keys = sorted(groups)
            picked, k = [], 0
            pools = {g: rng.sample(v, len(v)) for g, v in groups.items()}
            while len(picked) < n:
                g = keys[k % len(keys)]
                if pools[g]:
                    picked.append(pools[g].pop())
                k += 1
        out.extend(picked)
    return out


def gold_refs() -> set:
    """All (corpus, id) pairs of every slice: training must never see them."""
    return {(r.corpus, r.id) for s in SLICES for r in sample(s)}


if __name__ == "__main__":
    for r in sample(sys.argv[1]):
        print(json.dumps({"corpus": r.corpus, "id": r.id, "text": r.text}, ensure_ascii=False))

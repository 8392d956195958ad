"""A bag-of-words reference point for the SemEval proxy: TF-IDF + linear SVMs.

    python -m training.export_labelled semeval --out /tmp/voc-semeval
    python -m training.semeval_baseline /tmp/voc-semeval

Prints, on the test split:

* category detection micro-F1 of one linear SVM per category (decision > 0) for a few
  settings, and for the setting chosen on a dev slice of the train file (20% by a hash of
  the row id; the chosen setting is then refitted on the whole train file);
* category polarity accuracy and macro-F1 of one 3-class linear SVM over the sentence's
  TF-IDF (one row per gold category with a polarity, as ``voc eval`` counts them), its
  setting chosen on the same dev slice.

The per-setting test lines show how hard the proxy is for any bag-of-words model (voc's
classical heads are one); only the dev-chosen lines are a fair comparison.
"""

from __future__ import annotations

import json
import sys
import zlib
from pathlib import Path

import numpy as np

CATEGORIES = ["food", "service", "price", "ambience", "misc"]
POLARITIES = ["negative", "neutral", "positive"]
SETTINGS = [(ngrams, C) for ngrams in ((1, 1), (1, 2)) for C in (0.3, 1.0, 3.0)]


def load(path: Path):
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    Y = np.array([[any(a["id"] == c for a in r["aspects"]) for c in CATEGORIES] for r in rows], dtype=int)
    return rows, [r["text"] for r in rows], Y


def polarity_pairs(rows):
    """``(text, polarity index)`` for every gold category with a polarity."""
    return [(r["text"], POLARITIES.index(a["polarity"])) for r in rows for a in r["aspects"]
            if a.get("polarity") in POLARITIES]


def micro_f1(P, Y) -> float:
    tp = (P & (Y == 1)).sum()
    return round(float(2 * tp / (P.sum() + Y.sum())), 3)


def macro_f1(y, p) -> float:
    f = [2 * ((p == k) & (y == k)).sum() / max(1, (p == k).sum() + (y == k).sum()) for k in range(3)]
    return round(float(np.mean(f)), 3)


def is_dev(row_id: str) -> bool:
    return zlib.crc32(f"baseline-dev:{row_id}".encode()) % 5 == 0


def detect(texts, Y, test_texts, ngrams, C):
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.svm import LinearSVC

    vec = TfidfVectorizer(ngram_range=ngrams, sublinear_tf=True)
    X, Xt = vec.fit_transform(texts), vec.transform(test_texts)
    return np.stack([LinearSVC(C=C).fit(X, Y[:, k]).decision_function(Xt) > 0 for k in range(len(CATEGORIES))], 1)


def polarity(pairs, test_pairs, ngrams, C) -> float:
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.svm import LinearSVC

    vec = TfidfVectorizer(ngram_range=ngrams, sublinear_tf=True)
    clf = LinearSVC(C=C).fit(vec.fit_transform([t for t, _ in pairs]), [p for _, p in pairs])
    return clf.predict(vec.transform([t for t, _ in test_pairs]))


def main(argv=None) -> int:
    folder = Path((argv or sys.argv[1:])[0])
    rows, texts, Y = load(folder / "train.jsonl")
    test_rows, test_texts, Yt = load(folder / "test.jsonl")
    dev = np.array([is_dev(r.get("id", str(i))) for i, r in enumerate(rows)])
    fit_rows = [r for r, d in zip(rows, dev) if not d]
    dev_rows = [r for r, d in zip(rows, dev) if d]

    # ---- category detection
    on_dev = {}
    for ngrams, C in SETTINGS:
        print(f"ngrams {ngrams} C={C}: micro-F1 {micro_f1(detect(texts, Y, test_texts, ngrams, C), Yt)}")
        on_dev[(ngrams, C)] = micro_f1(detect([r["text"] for r in fit_rows], Y[~dev], [r["text"] for r in dev_rows],
                                              ngrams, C), Y[dev])
    ngrams, C = max(SETTINGS, key=lambda s: on_dev[s])
    print(f"detection, chosen on the dev slice ({int(dev.sum())} of the train rows; dev micro-F1 "
          f"{on_dev[(ngrams, C)]}): ngrams {ngrams} C={C}: test micro-F1 "
          f"{micro_f1(detect(texts, Y, test_texts, ngrams, C), Yt)}")

    # ---- category polarity, gold categories
    fit_pairs, dev_pairs = polarity_pairs(fit_rows), polarity_pairs(dev_rows)
    y_dev = np.array([p for _, p in dev_pairs])
    on_dev = {s: float((polarity(fit_pairs, dev_pairs, *s) == y_dev).mean()) for s in SETTINGS}
    ngrams, C = max(SETTINGS, key=lambda s: on_dev[s])
    test_pairs = polarity_pairs(test_rows)
    y_t = np.array([p for _, p in test_pairs])
    pred = polarity(polarity_pairs(rows), test_pairs, ngrams, C)
    print(f"polarity, chosen on the dev slice (dev accuracy {on_dev[(ngrams, C)]:.3f}): ngrams {ngrams} C={C}: "
          f"test accuracy {float((pred == y_t).mean()):.3f}, macro-F1 {macro_f1(y_t, pred)} (n={len(y_t)})")
    return 0


if __name__ == "__main__":
    sys.exit(main())

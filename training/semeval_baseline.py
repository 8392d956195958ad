"""A bag-of-words reference point for the SemEval proxy: TF-IDF + one linear SVM per category.

    python -m training.export_labelled semeval --out /tmp/voc-semeval
    python -m training.semeval_baseline /tmp/voc-semeval

Prints the category-detection micro-F1 on the test split for a few settings, to show how
hard the proxy is for any bag-of-words model (voc's classical heads are one).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np

CATEGORIES = ["food", "service", "price", "ambience", "misc"]


def load(path: Path):
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    Y = np.array([[any(a["id"] == c for a in r["aspects"]) for c in CATEGORIES] for r in rows], dtype=int)
    return [r["text"] for r in rows], Y


def micro_f1(P, Y) -> float:
    tp = (P & (Y == 1)).sum()
    return round(float(2 * tp / (P.sum() + Y.sum())), 3)


def main(argv=None) -> int:
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.svm import LinearSVC

    folder = Path((argv or sys.argv[1:])[0])
    texts, Y = load(folder / "train.jsonl")
    test_texts, Yt = load(folder / "test.jsonl")
    for ngrams in ((1, 1), (1, 2)):
        vec = TfidfVectorizer(ngram_range=ngrams, sublinear_tf=True)
        X, Xt = vec.fit_transform(texts), vec.transform(test_texts)
        for C in (0.3, 1.0, 3.0):
            P = np.stack([LinearSVC(C=C).fit(X, Y[:, k]).decision_function(Xt) > 0 for k in range(len(CATEGORIES))], 1)
            print(f"ngrams {ngrams} C={C}: micro-F1 {micro_f1(P, Yt)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

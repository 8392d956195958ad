"""Clause features shared by every learned head, and a small linear model.

Features are strings (``w=态度``, ``¬w=good``, ``b=not|bad``, ``c=很差``, ``L=tp:service``)
mapped to indices by a vocabulary fitted on training data. All heads share one
vocabulary, so a clause is featurized once however many heads read it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Iterable, List, Sequence

import numpy as np

from . import resources as R


def clause_features(tokens: Sequence[str], text: str, lex_labels: Iterable[str] = (),
                    breaks: Sequence[bool] = ()) -> List[str]:
    """Feature strings of one clause: negation-marked unigrams and bigrams, Han character
    bigrams (robust to segmentation and unseen words) and lexicon-hit labels.

    ``breaks[k]``: punctuation stands between token ``k - 1`` and token ``k``; a negator's
    scope ends there."""
    feats = []
    neg_left = 0
    prev = "<s>"
    zh_neg, en_neg = R.ZH_NEGATORS, R.EN_NEGATORS
    for k, tok in enumerate(tokens):
        if neg_left and breaks and breaks[k]:
            neg_left = 0
        is_neg = tok in zh_neg or tok in en_neg or tok.endswith("n't")
        w = ("¬" + tok) if neg_left > 0 and not is_neg else tok
        feats.append("w=" + w)
        feats.append("b=" + prev + "|" + tok)
        prev = tok
        if is_neg:
            neg_left = R.negation_window(tok)
        elif neg_left:
            neg_left -= 1
    feats.append("b=" + prev + "|</s>")
    for run in R.CJK_RUN_RE.findall(text):
        feats.extend("c=" + run[i:i + 2] for i in range(len(run) - 1))
    feats.extend("L=" + lab for lab in lex_labels)
    return feats


class Vocabulary:
    """Feature string → column index; fitted with a minimum document frequency."""

    def __init__(self, min_df: int = 2, max_features: int | None = None):
        self.min_df = min_df
        self.max_features = max_features

    def fit(self, feature_lists: Iterable[Sequence[str]]) -> "Vocabulary":
        from collections import Counter

        df: Counter = Counter()
        for feats in feature_lists:
            df.update(set(feats))
        items = [f for f, c in df.most_common(self.max_features) if c >= self.min_df]
        self.features_ = sorted(items)
        self.index_ = {f: i for i, f in enumerate(self.features_)}
        return self

    def __len__(self) -> int:
        return len(self.features_)

    def transform(self, feature_lists: Sequence[Sequence[str]]):
        from scipy.sparse import csr_matrix

        index = self.index_
        indptr = [0]
        indices: List[int] = []
        for feats in feature_lists:
            ids = {index[f] for f in feats if f in index}
            indices.extend(ids)
            indptr.append(len(indices))
        data = np.ones(len(indices), dtype=np.float32)
        X = csr_matrix((data, np.asarray(indices, dtype=np.int32), np.asarray(indptr, dtype=np.int64)),
                       shape=(len(feature_lists), len(self.features_)))
        # l2-normalise rows so long and short clauses live on one scale
        norms = np.sqrt(np.diff(X.indptr)).astype(np.float32)
        norms[norms == 0] = 1
        X.data /= np.repeat(norms, np.diff(X.indptr))
        return X

    def to_disk(self, path: Path) -> None:
        Path(path).write_text("\n".join(self.features_), encoding="utf-8")

    @classmethod
    def from_disk(cls, path: Path) -> "Vocabulary":
        self = cls()
        text = Path(path).read_text(encoding="utf-8")
        self.features_ = text.split("\n") if text else []
        self.index_ = {f: i for i, f in enumerate(self.features_)}
        return self


class LinearHead:
    """A linear classifier over the shared features.

    ``kind="softmax"``: one label per row (sentiment); ``kind="sigmoid"``: independent
    labels (touchpoints). Trained with scikit-learn's logistic regression; stored as
    ``.npz`` (weights) + labels, and predicted with plain numpy.
    """

    def __init__(self, labels: Sequence[str], kind: str = "softmax", C: float = 1.0,
                 class_weight: str | None = "balanced", max_iter: int = 1000, seed: int = 0):
        self.labels = list(labels)
        self.kind = kind
        self.C = C
        self.class_weight = class_weight
        self.max_iter = max_iter
        self.seed = seed

    def fit(self, X, y, sample_weight=None) -> "LinearHead":
        from sklearn.linear_model import LogisticRegression

        if self.kind == "softmax":
            clf = LogisticRegression(C=self.C, class_weight=self.class_weight, max_iter=self.max_iter,
                                     random_state=self.seed)
            y = np.asarray(y)
            present = sorted(set(y.tolist()))
            coef = np.zeros((X.shape[1], len(self.labels)))
            inter = np.full(len(self.labels), -10.0)  # a class never seen in training is never predicted
            if len(present) == 1:
                inter[present[0]] = 10.0
            else:
                clf.fit(X, y, sample_weight=sample_weight)
                classes = list(clf.classes_)
                if len(classes) == 2:  # binary: scikit-learn keeps one row of weights
                    coef[:, classes[1]], coef[:, classes[0]] = clf.coef_[0] / 2, -clf.coef_[0] / 2
                    inter[classes[1]], inter[classes[0]] = clf.intercept_[0] / 2, -clf.intercept_[0] / 2
                else:
                    for r, c in enumerate(classes):
                        coef[:, c], inter[c] = clf.coef_[r], clf.intercept_[r]
            self._set(coef, inter)
        else:
            Y = np.asarray(y)
            coefs, inters = [], []
            for j in range(Y.shape[1]):
                if Y[:, j].min() == Y[:, j].max():
                    coefs.append(np.zeros(X.shape[1]))
                    inters.append(-10.0 if Y[0, j] == 0 else 10.0)
                    continue
                clf = LogisticRegression(C=self.C, class_weight=self.class_weight, max_iter=self.max_iter,
                                         solver="liblinear", random_state=self.seed)
                clf.fit(X, Y[:, j], sample_weight=sample_weight)
                coefs.append(clf.coef_[0])
                inters.append(clf.intercept_[0])
            self._set(np.stack(coefs, axis=1), inters)
        return self

    def _set(self, coef, intercept) -> None:
        # Weights are stored as float16; keep the in-memory model identical to the saved one.
        self.coef_ = np.asarray(coef, dtype=np.float16).astype(np.float32)
        self.intercept_ = np.asarray(intercept, dtype=np.float32)

    def decision_function(self, X) -> np.ndarray:
        return np.asarray(X @ self.coef_) + self.intercept_

    def predict_proba(self, X) -> np.ndarray:
        z = self.decision_function(X)
        if self.kind == "softmax":
            z = z - z.max(axis=1, keepdims=True)
            e = np.exp(z)
            return e / e.sum(axis=1, keepdims=True)
        return 1.0 / (1.0 + np.exp(-z))

    def to_disk(self, path: Path) -> None:
        path = Path(path)
        path.mkdir(parents=True, exist_ok=True)
        np.savez_compressed(path / "weights.npz", coef=self.coef_.astype(np.float16), intercept=self.intercept_)
        import json

        (path / "head.json").write_text(json.dumps({"labels": self.labels, "kind": self.kind, "C": self.C}, indent=2))

    @classmethod
    def from_disk(cls, path: Path) -> "LinearHead":
        import json

        path = Path(path)
        cfg = json.loads((path / "head.json").read_text())
        self = cls(cfg["labels"], cfg["kind"], cfg.get("C", 1.0))
        with np.load(path / "weights.npz", allow_pickle=False) as z:
            self.coef_ = z["coef"].astype(np.float32)
            self.intercept_ = z["intercept"].astype(np.float32)
        return self

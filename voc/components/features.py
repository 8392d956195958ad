"""The features stage and the clause matrices every learned head reads."""

from __future__ import annotations

from pathlib import Path
from typing import List, Sequence

import numpy as np

from ..document import Clause, Document
from ..features import Vocabulary, clause_features
from .base import Component
from .lexicon import scope_breaks


class Featurizer(Component):
    """Turn each clause (and the whole text) into feature columns of the shared vocabulary.

    With an ``encoder`` (a transformer backbone, :mod:`voc.backbone`) each clause also gets
    an embedding (a unit of several clauses takes their normalised mean, :func:`merge_clauses`).
    """

    name = "features"

    def __init__(self, vocab: Vocabulary, encoder=None, backbone: dict | None = None):
        self.vocab = vocab
        self.encoder = encoder
        self.backbone = backbone  # {"spec": "minilm" | path, "finetuned": bool, ...} or None

    def clause_strings(self, doc: Document, c: Clause) -> List[str]:
        words = [w for w, _, _ in doc.tokens[c.tok_start:c.tok_end]]
        labs = []
        net = 0
        for _, _, kind, lab, neg in c.matches:
            if kind == "polarity":
                # labels: pos/neg with an optional strength digit (pos3 = strongly positive)
                sign = 1 if lab.startswith("pos") else -1
                strength = int(lab[3:]) if lab[3:].isdigit() else 1
                if neg:
                    sign = -sign
                d = "pos" if sign > 0 else "neg"
                labs.append("pol:" + d)
                labs.append(f"pol:{d}{strength}")
                net += sign * strength
            elif kind in ("touchpoints", "signals", "themes", "stages"):
                labs.append(("¬" if neg else "") + kind[:2] + ":" + lab)
        labs.append(f"net:{max(-4, min(4, net)):+d}")
        if is_question(doc.norm, c.start, c.end):
            labs.append("question")  # "能送到大学城吗？" asks; it does not complain
        breaks = c.breaks if c.breaks is not None else scope_breaks(doc, c)  # set by the lexicon stage
        return clause_features(words, doc.norm[c.start:c.end], labs, breaks)

    def __call__(self, doc):
        return self.pipe([doc])[0]

    def pipe(self, docs):
        index = self.vocab.index_
        for doc in docs:
            for c in doc.clauses:
                c.x = np.fromiter({index[f] for f in self.clause_strings(doc, c) if f in index}, dtype=np.int32)
        if self.encoder is not None:
            self.embed(docs)
        return docs

    def embed(self, docs: Sequence[Document]) -> None:
        clauses = [(d, c) for d in docs for c in d.clauses]
        E = self.encoder.encode([d.norm[c.start:c.end] for d, c in clauses])
        for (_, c), e in zip(clauses, E):
            c.emb = e

    def config(self):
        return {"backbone": self.backbone} if self.backbone else {}

    def to_disk(self, path):
        path.mkdir(parents=True, exist_ok=True)
        self.vocab.to_disk(path / "vocab.txt")

    @classmethod
    def from_disk(cls, path: Path, backbone: dict | None = None) -> "Featurizer":
        encoder = None
        if backbone:
            from ..backbone import Encoder, resolve_backbone

            from ..errors import ModelError

            local = path / "backbone"
            try:
                where = local if backbone.get("finetuned") else resolve_backbone(backbone["spec"])
            except ModelError as e:
                raise ModelError(f"This model was trained on the backbone {backbone['spec']!r}, which is not "
                                 f"available here: {e.message} Put the checkpoint back at that path, or edit "
                                 f"'backbone.spec' in {path.parent / 'config.json'} to where it is now.",
                                 e.code) from e
            encoder = Encoder(str(where), max_length=backbone.get("max_length", 128),
                              pooling=backbone.get("pooling", "mean"))
        return cls(Vocabulary.from_disk(path / "vocab.txt"), encoder, backbone)


_QUESTION_END = ("?", "？")


def is_question(norm: str, start: int, end: int) -> bool:
    """Whether the clause ``norm[start:end]`` asks: a question mark follows it, or it starts
    with 请问 / ends with a Chinese question particle."""
    after = norm[end:end + 2]
    if any(q in after for q in _QUESTION_END):
        return True
    piece = norm[start:end]
    return piece.startswith("请问") or piece.endswith(("吗", "么"))


def clause_matrix(clauses: Sequence[Clause], n_features: int):
    """Stack the clauses' feature columns into one l2-normalised CSR matrix.

    With a transformer backbone each clause also has an embedding (``c.emb``); it fills
    the last ``dim`` of the ``n_features`` columns.
    """
    from scipy.sparse import csr_matrix, hstack

    dim = len(clauses[0].emb) if clauses and clauses[0].emb is not None else 0
    if dim:
        sparse = clause_matrix_sparse(clauses, n_features - dim)
        dense = np.stack([c.emb for c in clauses]).astype(np.float32)
        return hstack([sparse, csr_matrix(dense)], format="csr")
    return clause_matrix_sparse(clauses, n_features)


def clause_matrix_sparse(clauses: Sequence[Clause], n_features: int):
    from scipy.sparse import csr_matrix

    lens = np.fromiter((len(c.x) for c in clauses), dtype=np.int64, count=len(clauses))
    indptr = np.zeros(len(clauses) + 1, dtype=np.int64)
    np.cumsum(lens, out=indptr[1:])
    indices = np.concatenate([c.x for c in clauses]) if clauses else np.zeros(0, dtype=np.int32)
    w = 1.0 / np.sqrt(np.maximum(lens, 1)).astype(np.float32)
    data = np.repeat(w, lens)
    return csr_matrix((data, indices, indptr), shape=(len(clauses), n_features))


def merge_clauses(clauses: Sequence[Clause], start: int | None = None, end: int | None = None) -> Clause:
    """One unit over several clauses (a whole text, a touchpoint's evidence): the union of their
    feature columns and, with a backbone, the normalised mean of their embeddings."""
    u = Clause(clauses[0].start if start is None else start, clauses[-1].end if end is None else end)
    u.x = np.unique(np.concatenate([c.x for c in clauses]))
    if clauses[0].emb is not None:
        m = np.mean([c.emb for c in clauses], axis=0)
        u.emb = (m / max(float(np.linalg.norm(m)), 1e-9)).astype(np.float32)
    return u

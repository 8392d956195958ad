"""Roll-up settings: expectation, ideal and importance per touchpoint, volumes, alert rules.

Data, not constants in code (STYLE 12): the shipped ``default.yaml`` is the starting point and
``RollupConfig.from_yaml(path)`` layers a business's own file over it.
"""

from __future__ import annotations

import copy
from functools import lru_cache
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, Optional

import yaml

from ..errors import E_CONFIG, InputError

DEFAULT_PATH = Path(__file__).with_name("default.yaml")


@lru_cache(maxsize=1)
def _default_yaml() -> dict:
    return yaml.safe_load(DEFAULT_PATH.read_text(encoding="utf-8"))


def default_settings() -> dict:
    """A fresh copy of the shipped defaults (read from disk once per process)."""
    return copy.deepcopy(_default_yaml())


def _merge(base: dict, over: dict) -> dict:
    out = copy.deepcopy(base)
    for k, v in (over or {}).items():
        out[k] = _merge(out[k], v) if isinstance(v, dict) and isinstance(out.get(k), dict) else v
    return out


@dataclass
class RollupConfig:
    data: Dict = field(default_factory=default_settings)

    @classmethod
    def from_yaml(cls, path=None, overrides: Optional[dict] = None) -> "RollupConfig":
        base = default_settings()
        if path:
            try:
                user = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
            except OSError as e:
                raise InputError(f"Cannot read roll-up config {path}: {e.strerror}.", E_CONFIG) from e
            except yaml.YAMLError as e:
                raise InputError(f"Roll-up config {path} is not valid YAML: {e}", E_CONFIG) from e
            if not isinstance(user, dict):
                raise InputError(f"Roll-up config {path} must be a mapping (see voc/rollup/default.yaml).", E_CONFIG)
            base = _merge(base, user)
        cfg = cls(_merge(base, overrides or {}))
        cfg.validate()
        return cfg

    def validate(self) -> None:
        for kind in ("touchpoints", "themes"):
            for label, v in (self.data.get(kind) or {}).items():
                for key, x in (v or {}).items():
                    if key not in ("expectation", "ideal", "importance"):
                        raise InputError(f"Roll-up config: {kind}.{label}.{key} is unknown; use expectation, ideal "
                                         "or importance.", E_CONFIG)
                    lo = 1 if key == "importance" else 0
                    if not isinstance(x, (int, float)) or not lo <= x <= 10:
                        raise InputError(f"Roll-up config: {kind}.{label}.{key} = {x!r}; give a number from {lo} "
                                         "to 10.", E_CONFIG)
        if int(self.min_volume) < 1:
            raise InputError("Roll-up config: min_volume must be at least 1.", E_CONFIG)

    def _entry(self, kind: str, label: str) -> dict:
        return (self.data.get(kind + "s") or {}).get(label) or {}

    def expectation(self, kind: str, label: str) -> float:
        return float(self._entry(kind, label).get("expectation", self.data["defaults"]["expectation"]))

    def ideal(self, kind: str, label: str) -> float:
        return float(self._entry(kind, label).get("ideal", self.data["defaults"]["ideal"]))

    def importance(self, kind: str, label: str) -> Optional[float]:
        x = self._entry(kind, label).get("importance")
        return None if x is None else float(x)

    @property
    def min_volume(self) -> int:
        return int(self.data["min_volume"])

    @property
    def confidence(self) -> float:
        return float(self.data["confidence"])

    @property
    def drivers(self) -> dict:
        return self.data["drivers"]

    @property
    def alerts(self) -> dict:
        return self.data["alerts"]

from functools import lru_cache
from typing import Optional

from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Service settings, read from ``VOC_*`` environment variables."""

    model_config = SettingsConfigDict(env_prefix="VOC_")

    model_path: Optional[str] = None   # default: the shipped voc-default
    max_batch: int = 1000               # texts per /v1/analyze/batch request


@lru_cache
def get_settings() -> Settings:
    return Settings()

from functools import lru_cache
from typing import List, Optional

from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Service settings, read from ``VOC_*`` environment variables (``VOC_API_KEYS=k1,k2``)."""

    model_config = SettingsConfigDict(env_prefix="VOC_")

    model_path: Optional[str] = None      # default: the shipped voc-default
    store_path: str = "voc.duckdb"         # the DuckDB store that ingest fills and roll-ups read
    max_batch: int = 1000                  # items per /v1/analyze/batch or /v1/documents request
    max_body_bytes: int = 10_000_000       # larger request bodies: 413 E106
    max_text_chars: int = 20_000           # longer texts: 422 E115 (a batch item gets its own E115)
    api_keys: str = ""                     # comma-separated; unset: reads are open, writes refused
    cors_origins: str = ""                 # comma-separated origins allowed by CORS ("*" for any)
    redact_pii: bool = True                # mask phones, e-mails, ID and card numbers before storing
    log_texts: bool = False                # customer text never reaches the logs unless this is set
    jobs_dir: str = "voc-jobs"             # uploaded files and their scored tables
    max_upload_bytes: int = 2_000_000_000  # larger uploads: 413 E106

    @property
    def keys(self) -> List[str]:
        return [k.strip() for k in self.api_keys.split(",") if k.strip()]


@lru_cache
def get_settings() -> Settings:
    return Settings()

"""API keys: compared in constant time; required for writes, and for everything once set."""

import hmac

from fastapi import Depends, Request

from api.settings import Settings, get_settings
from voc.errors import E_AUTH, E_WRITES_DISABLED, VocError


class AuthError(VocError):
    """401/403: a missing or wrong API key, or writes not enabled."""


def _presented(request: Request) -> str:
    key = request.headers.get("x-api-key", "")
    auth = request.headers.get("authorization", "")
    if not key and auth.lower().startswith("bearer "):
        key = auth[7:].strip()
    return key


def _valid(key: str, keys) -> bool:
    ok = False
    for k in keys:  # every key is compared, so the time does not tell which one nearly matched
        ok |= hmac.compare_digest(key.encode(), k.encode())
    return ok


def require_read(request: Request, settings: Settings = Depends(get_settings)) -> None:
    if settings.keys and not _valid(_presented(request), settings.keys):
        raise AuthError("This service needs an API key: send it as X-API-Key or Authorization: Bearer.", E_AUTH)


def require_write(request: Request, settings: Settings = Depends(get_settings)) -> None:
    if not settings.keys:
        raise AuthError("Writes are disabled: set VOC_API_KEYS on the server and send one of the keys as "
                        "X-API-Key.", E_WRITES_DISABLED)
    if not _valid(_presented(request), settings.keys):
        raise AuthError("Writes need an API key: send it as X-API-Key or Authorization: Bearer.", E_AUTH)

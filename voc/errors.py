"""All errors voc raises, with stable codes.

Each code is part of the public contract: API clients and batch reports key on it.
Messages say what was wrong and what to do about it (spaCy ``errors.py`` style).
"""

from __future__ import annotations


class VocError(Exception):
    """Base class: every error voc raises on purpose carries a ``code``."""

    code = "E000"

    def __init__(self, message: str, code: str | None = None):
        super().__init__(message)
        if code:
            self.code = code
        self.message = message

    def to_dict(self) -> dict:
        return {"code": self.code, "message": self.message}


class InputError(VocError, ValueError):
    """The text or record handed to voc cannot be analysed."""


class ModelError(VocError):
    """A model folder is missing, incomplete or of an unknown format."""


class DependencyError(VocError, ImportError):
    """An optional dependency is needed for this feature."""


# Codes used for per-record errors (a record with an error is still written out).
E_EMPTY = "E101"          # empty or whitespace-only text
E_NOT_TEXT = "E102"       # the text field is not a string
E_MISSING_FIELD = "E103"  # the record has no text field
E_BAD_RECORD = "E104"     # the line is not valid JSON / not an object
E_TOO_LONG = "E105"       # text longer than max_chars (analysed after truncation)
E_TOO_MANY = "E106"       # a request or batch larger than the service's limit
E_BAD_UNICODE = "E107"    # lone surrogates in the text (replaced by U+FFFD, then analysed)
E_BAD_BYTES = "E108"      # the record's bytes do not decode in the file's encoding (not analysed)
E_BAD_REQUEST = "E110"    # an HTTP request body that is not JSON or does not fit the endpoint's schema
E_NOT_FOUND = "E111"      # an HTTP path or resource that does not exist
E_AUTH = "E112"           # an HTTP request without a valid API key (401)
E_WRITES_DISABLED = "E113"  # a write request to a service with no API keys configured (403)
E_JOB_NOT_DONE = "E114"   # a job's results were asked for before it finished (409)
E_TEXT_TOO_LONG = "E115"  # a text over the service's VOC_MAX_TEXT_CHARS (422; the item is not analysed)
E_BAD_TIME = "E109"       # the time field does not parse (the record is scored without a time)
E_INTERNAL = "E199"       # an unexpected failure inside the pipeline for this record

E_MODEL_MISSING = "E201"
E_MODEL_FORMAT = "E202"
E_MODEL_FILE = "E203"
E_UNKNOWN_COMPONENT = "E204"

E_DEPENDENCY = "E301"
E_INPUT_FILE = "E401"
E_INPUT_FORMAT = "E402"
E_ENCODING = "E403"       # the file is not in the expected encoding (a hint names the likely one)
E_MISSING_COLUMN = "E404" # a mapped column (--time-field, ...) is not in the header/schema
E_OUTPUT = "E405"         # the output path cannot be written (missing folder, a folder, no permission)
E_RESUME = "E406"         # --resume cannot continue: no checkpoint, or it belongs to another input/settings
E_CONFIG = "E407"         # the roll-up config file is unreadable or has a bad value
E_ROLLUP = "E408"         # a roll-up request names an unknown dimension, bucket or filter


def empty_text() -> InputError:
    return InputError("The text is empty or only whitespace; send the customer's words in the text field.", E_EMPTY)


def not_text(kind: str) -> InputError:
    return InputError(f"The text must be a string, got {kind}; convert it or fix the text field.", E_NOT_TEXT)

"""The one reading of what obstore raises: which StorageError a user sees, in their words.

obstore's messages carry the server's XML answer and a debug dump; none of that is shown. The
reason names the key and the server (never a credential); the masked original goes to the
debug log.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import obstore.exceptions as obstore_errors

from db.config import mask_password
from db.storage.base import (
    MediaForbidden,
    MediaMissing,
    StorageError,
    StoreUnreachable,
)

log = logging.getLogger(__name__)

# Words in object_store's messages for a server that could not be reached at all.
_CONNECT_WORDS = ("error sending request", "connect", "dns error", "connection refused")
_TIMEOUT_WORDS = ("timed out", "deadline has elapsed", "kind: timeout")
_BODY_WORDS = ("decoding response body", "error reading", "body", "unexpected eof", "end of file")


@dataclass(frozen=True, slots=True)
class Classified:
    error: StorageError
    server_down: bool  # the server did not answer at all: later calls may fail fast


def classify(exc: BaseException, key: str, server: str) -> Classified:
    """The StorageError for an exception from an obstore call on `key`."""
    text = mask_password(str(exc))
    log.debug("S3 request for %s failed: %s", key, text[:2000])
    lowered = text.lower()
    if isinstance(exc, FileNotFoundError | obstore_errors.NotFoundError):
        return Classified(MediaMissing(key, "Not in the bucket"), False)
    if isinstance(exc, obstore_errors.PermissionDeniedError | obstore_errors.UnauthenticatedError):
        return Classified(
            MediaForbidden(key, f"Access denied by {server} (check the S3 credentials)"), False
        )
    if "403 forbidden" in lowered or "401 unauthorized" in lowered:
        return Classified(
            MediaForbidden(key, f"Access denied by {server} (check the S3 credentials)"), False
        )
    if any(word in lowered for word in _BODY_WORDS) and "error sending request" not in lowered:
        return Classified(StoreUnreachable(key, f"Download from {server} was cut short"), False)
    if any(word in lowered for word in _CONNECT_WORDS):
        return Classified(StoreUnreachable(key, f"Media server {server} is not answering"), True)
    if any(word in lowered for word in _TIMEOUT_WORDS):
        return Classified(
            StoreUnreachable(key, f"Media server {server} did not answer in time"), True
        )
    if "server returned non-2xx status code: 5" in lowered:
        return Classified(StoreUnreachable(key, f"Media server {server} reported an error"), False)
    return Classified(StoreUnreachable(key, f"Media server {server} failed the request"), False)

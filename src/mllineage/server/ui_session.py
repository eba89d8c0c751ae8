"""The web UI's sign-in: signed session cookies bound to an access key, and CSRF tokens.

A session cookie holds, signed with the server's session key (itsdangerous, HMAC-SHA256):
the access key ID, a fingerprint of that key's secret (an HMAC of it under the session key,
so the secret itself is never in the cookie), a random nonce and an expiry time. A cookie is
honoured only while its signature checks out, it has not expired, the access key is still
configured and the key's secret is still the one it was issued for: removing the key or
changing its secret ends its sessions. The CSRF token is an HMAC of the nonce, so every worker
process that shares the session key recognises it without shared state.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from itsdangerous import BadSignature, URLSafeSerializer

from mllineage.server.auth import Credential

SESSION_COOKIE = "mllineage_session"
#: How long a sign-in lasts.
SESSION_MAX_AGE_SECONDS = 12 * 3600
_SALT = "mllineage.ui.session"
# Compared against when the access key is unknown, so both refusals take the same time.
_DUMMY_SECRET = secrets.token_urlsafe(32)


@dataclass(frozen=True)
class UiSession:
    """A signed-in browser: whose key it used, and the CSRF token of its session."""

    credential: Credential
    csrf_token: str
    expires: int  # seconds since the epoch


class SessionSigner:
    """Issues and checks session cookies for a set of access keys.

    Args:
        key: the server's session-signing key (shared by every worker process).
        credentials: the access keys the server accepts now.
        max_age: seconds a session lasts.
        clock: seconds since the epoch (injectable for tests).
    """

    def __init__(
        self,
        key: str | bytes,
        credentials: Mapping[str, Credential],
        *,
        max_age: int = SESSION_MAX_AGE_SECONDS,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._key = key.encode() if isinstance(key, str) else bytes(key)
        self._serializer = URLSafeSerializer(
            self._key, salt=_SALT, signer_kwargs={"digest_method": hashlib.sha256}
        )
        self._credentials = credentials
        self.max_age = max_age
        self._clock = clock

    def __repr__(self) -> str:
        return f"SessionSigner({len(self._credentials)} access keys, max_age={self.max_age})"

    def check_secret(self, access_key_id: str, secret_access_key: str) -> Credential | None:
        """The credential if ``secret_access_key`` is its secret (constant-time), else None."""
        credential = self._credentials.get(access_key_id)
        expected = credential.secret_access_key if credential is not None else _DUMMY_SECRET
        matches = hmac.compare_digest(expected.encode(), secret_access_key.encode())
        return credential if credential is not None and matches else None

    def knows(self, access_key_id: str) -> bool:
        """Whether ``access_key_id`` is a configured key."""
        return access_key_id in self._credentials

    def issue(self, credential: Credential) -> tuple[str, UiSession]:
        """A new session for ``credential``: the cookie value and what it stands for."""
        nonce = secrets.token_urlsafe(16)
        expires = int(self._clock()) + self.max_age
        value = self._serializer.dumps(
            {
                "k": credential.access_key_id,
                "f": self._fingerprint(credential),
                "n": nonce,
                "e": expires,
            }
        )
        return value, UiSession(credential, self._csrf(nonce), expires)

    def open(self, value: str | None) -> UiSession | None:
        """The session a cookie value stands for, or None when it is not (or no longer) valid."""
        if not value or len(value) > 4096:
            return None
        try:
            payload: Any = self._serializer.loads(value)
        except BadSignature:
            return None
        if not isinstance(payload, dict):
            return None
        key, fingerprint, nonce, expires = (payload.get(f) for f in ("k", "f", "n", "e"))
        if not (
            isinstance(key, str)
            and isinstance(fingerprint, str)
            and isinstance(nonce, str)
            and isinstance(expires, int)
        ):
            return None
        credential = self._credentials.get(key)
        if credential is None or expires <= self._clock():
            return None
        if not hmac.compare_digest(fingerprint, self._fingerprint(credential)):
            return None  # the key's secret changed since sign-in
        return UiSession(credential, self._csrf(nonce), expires)

    def csrf_ok(self, session: UiSession, token: str | None) -> bool:
        return token is not None and hmac.compare_digest(
            session.csrf_token.encode(), token.encode("utf-8", "replace")
        )

    def _fingerprint(self, credential: Credential) -> str:
        message = f"bind\0{credential.access_key_id}\0{credential.secret_access_key}".encode()
        return hmac.new(self._key, message, hashlib.sha256).hexdigest()

    def _csrf(self, nonce: str) -> str:
        return hmac.new(self._key, f"csrf\0{nonce}".encode(), hashlib.sha256).hexdigest()

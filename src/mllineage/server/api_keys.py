"""API keys: ``Authorization: Bearer <key>``, as OpenLineage clients authenticate.

OpenLineage producers (openlineage-python's ``api_key``, ``OPENLINEAGE_API_KEY`` for Airflow,
dbt and Spark) send a bearer token, not a SigV4 signature. API keys are configured beside the
access keys, each mapping to an account (and a user recorded on what it writes):

* ``MLLINEAGE_API_KEYS="KEY[:ACCOUNT],..."``;
* in the credentials file (``--credentials``), JSON entries with ``"api_key"``::

      {"airflow": {"api_key": "...", "account_id": "111111111111"}}

  or INI sections with ``api_key`` (the entry's name is the user)::

      [airflow]
      api_key = ...
      account_id = 111111111111

Keys are compared by their SHA-256 digests; a key never appears in a message, a log or a repr.
"""

from __future__ import annotations

import configparser
import hashlib
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mllineage.server.auth import DEFAULT_ACCOUNT_ID, is_api_key_entry

ENV_API_KEYS = "MLLINEAGE_API_KEYS"
_ACCOUNT_RE = re.compile(r"[0-9]{12}")
_KEY_RE = re.compile(r"[\x21-\x7e]{16,512}")  # visible ASCII: what a bearer header carries


@dataclass(frozen=True)
class ApiKey:
    """One bearer key the server accepts, and whom it stands for."""

    key: str = field(repr=False)
    account_id: str = DEFAULT_ACCOUNT_ID
    user: str | None = None

    def __post_init__(self) -> None:
        if not _KEY_RE.fullmatch(self.key):
            raise ValueError(
                f"API key {self.label!r} must be 16-512 visible ASCII characters (no spaces)"
            )
        if not _ACCOUNT_RE.fullmatch(self.account_id):
            raise ValueError(
                f"API key {self.label!r}: account ID must be 12 digits, got {self.account_id!r}"
            )

    @property
    def digest(self) -> str:
        return hashlib.sha256(self.key.encode()).hexdigest()

    @property
    def label(self) -> str:
        """A name for logs and records: the user, else the start of the key's digest."""
        return self.user or f"api-key-{hashlib.sha256(self.key.encode()).hexdigest()[:8]}"

    def user_context(self) -> dict[str, Any]:
        """The ``UserContext`` the store records for what this key writes."""
        return {
            "UserProfileName": self.label,
            "IamIdentity": {"Arn": f"arn:aws:iam::{self.account_id}:user/{self.label}"},
        }


class ApiKeys:
    """The accepted API keys, looked up by digest."""

    def __init__(self, keys: Iterable[ApiKey] = ()) -> None:
        self._by_digest: dict[str, ApiKey] = {}
        for key in keys:
            known = self._by_digest.get(key.digest)
            if known is not None and known != key:
                raise ValueError(f"API key {key.label!r} is configured twice, differently")
            self._by_digest[key.digest] = key

    def __len__(self) -> int:
        return len(self._by_digest)

    def __repr__(self) -> str:
        return f"ApiKeys({len(self)} keys)"

    def find(self, presented: str) -> ApiKey | None:
        return self._by_digest.get(hashlib.sha256(presented.encode()).hexdigest())


def parse_api_keys_env(text: str, *, default_account: str = DEFAULT_ACCOUNT_ID) -> list[ApiKey]:
    """API keys from ``"KEY[:ACCOUNT],..."`` (the ``MLLINEAGE_API_KEYS`` form)."""
    out = []
    for number, entry in enumerate(text.split(","), start=1):
        entry = entry.strip()
        if not entry:
            continue
        key, _, account = entry.partition(":")
        try:
            out.append(ApiKey(key, account or default_account))
        except ValueError as error:  # (never echo the entry: it is a secret)
            raise ValueError(f"{ENV_API_KEYS} entry {number}: {error}") from None
    return out


def api_keys_from_file(path: Path, *, default_account: str = DEFAULT_ACCOUNT_ID) -> list[ApiKey]:
    """The ``api_key`` entries of a credentials file (JSON or INI, see the module doc)."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise ValueError(f"cannot read credentials file {path}: {error.strerror}") from None
    if text.lstrip().startswith("{"):
        try:
            data = json.loads(text)
        except ValueError as error:
            raise ValueError(f"credentials file {path} is not valid JSON: {error}") from None
        return [
            ApiKey(value["api_key"], str(value.get("account_id", default_account)), name)
            for name, value in data.items()
            if isinstance(value, dict) and isinstance(value.get("api_key"), str)
        ]
    parser = configparser.ConfigParser(interpolation=None)
    try:
        parser.read_string(text, source=str(path))
    except configparser.Error as error:
        raise ValueError(f"credentials file {path} is neither JSON nor INI: {error}") from None
    return [
        ApiKey(parser[s]["api_key"], parser[s].get("account_id", default_account), s)
        for s in parser.sections()
        if parser[s].get("api_key")
    ]


def load_api_keys(
    file: Path | None = None,
    env: Mapping[str, str] | None = None,
    *,
    default_account: str = DEFAULT_ACCOUNT_ID,
) -> ApiKeys:
    """Every configured API key: those of ``file`` and of ``MLLINEAGE_API_KEYS``."""
    found: list[ApiKey] = []
    if file is not None:
        found += api_keys_from_file(file, default_account=default_account)
    text = (env if env is not None else {}).get(ENV_API_KEYS)
    if text:
        found += parse_api_keys_env(text, default_account=default_account)
    return ApiKeys(found)


__all__ = [
    "ENV_API_KEYS",
    "ApiKey",
    "ApiKeys",
    "is_api_key_entry",
    "load_api_keys",
    "parse_api_keys_env",
]

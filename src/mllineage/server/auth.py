"""AWS Signature Version 4 verification, and the access keys the server accepts.

The server recomputes each request's signature with botocore's own ``SigV4Auth`` from the
request it received and the secret of the claimed access key, and compares the two in constant
time. Refusals carry the codes AWS answers with (``MissingAuthenticationTokenException``,
``IncompleteSignatureException``, ``UnrecognizedClientException``,
``InvalidSignatureException``). Secrets never appear in a message, a log line or a ``repr``.

Access keys come from a credentials file and/or ``MLLINEAGE_CREDENTIALS``; each maps to an
account ID, and a request is served in the account of the key that signed it.
"""

from __future__ import annotations

import configparser
import hashlib
import hmac
import json
import re
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest, HTTPHeaders
from botocore.credentials import Credentials

from mllineage.store.wire import (
    IncompleteSignatureException,
    InvalidSignatureException,
    MissingAuthenticationTokenException,
    UnrecognizedClientException,
)

DEFAULT_ACCOUNT_ID = "000000000000"
SERVICE_NAME = "sagemaker"
#: How far a request's ``X-Amz-Date`` may be from the server's clock, as AWS allows.
MAX_CLOCK_SKEW = timedelta(minutes=15)
ENV_CREDENTIALS = "MLLINEAGE_CREDENTIALS"

_ALGORITHM = "AWS4-HMAC-SHA256"
_AMZ_DATE = "%Y%m%dT%H%M%SZ"
_ACCESS_KEY_RE = re.compile(r"[A-Za-z0-9_+=.@-]{1,128}")
_ACCOUNT_RE = re.compile(r"[0-9]{12}")
_BAD_SIGNATURE = (
    "The request signature we calculated does not match the signature you provided. Check "
    "your AWS Secret Access Key and signing method. Consult the service documentation for "
    "details."
)


@dataclass(frozen=True)
class Credential:
    """One access key the server accepts, and whom it stands for.

    Args:
        access_key_id: the public half, e.g. ``AKIAEXAMPLE``.
        secret_access_key: the secret half (hidden from ``repr``).
        account_id: the 12-digit account whose entities the key sees.
        user: a label recorded as ``CreatedBy``/``LastModifiedBy`` (default: the key ID).
    """

    access_key_id: str
    secret_access_key: str = field(repr=False)
    account_id: str = DEFAULT_ACCOUNT_ID
    user: str | None = None

    def __post_init__(self) -> None:
        if not _ACCESS_KEY_RE.fullmatch(self.access_key_id):
            raise ValueError(
                f"access key ID {self.access_key_id!r} must be 1-128 letters, digits or _+=.@-"
            )
        if not self.secret_access_key:
            raise ValueError(f"access key {self.access_key_id}: the secret is empty")
        if not _ACCOUNT_RE.fullmatch(self.account_id):
            raise ValueError(
                f"access key {self.access_key_id}: account ID must be 12 digits, "
                f"got {self.account_id!r}"
            )

    def user_context(self) -> dict[str, Any]:
        """The ``UserContext`` the store records for calls signed with this key."""
        name = self.user or self.access_key_id
        return {
            "UserProfileName": name,
            "IamIdentity": {
                "Arn": f"arn:aws:iam::{self.account_id}:user/{name}",
                "PrincipalId": self.access_key_id,
            },
        }


# -- loading credentials -----------------------------------------------------------------------
def parse_credentials_env(
    text: str, *, default_account: str = DEFAULT_ACCOUNT_ID
) -> list[Credential]:
    """Credentials from ``"KEY:SECRET[:ACCOUNT],..."`` (the ``MLLINEAGE_CREDENTIALS`` form)."""
    out = []
    for number, entry in enumerate(text.split(","), start=1):
        entry = entry.strip()
        if not entry:
            continue
        parts = entry.split(":")
        if len(parts) not in (2, 3):
            # Never echo the entry: it holds a secret.
            raise ValueError(
                f"{ENV_CREDENTIALS} entry {number} must be KEY:SECRET or KEY:SECRET:ACCOUNT"
            )
        account = parts[2] if len(parts) == 3 else default_account
        out.append(Credential(parts[0], parts[1], account))
    return out


def load_credentials_file(
    path: Path, *, default_account: str = DEFAULT_ACCOUNT_ID
) -> list[Credential]:
    """Credentials from a JSON or INI file.

    JSON maps access key IDs to a secret or to an object::

        {"AKIAALICE": {"secret_access_key": "...", "account_id": "111111111111", "user": "alice"},
         "AKIABOB": "bob-secret"}

    INI uses the AWS credentials-file keys, one section per user (the section names the user)::

        [alice]
        aws_access_key_id = AKIAALICE
        aws_secret_access_key = ...
        account_id = 111111111111

    Raises:
        ValueError: the file cannot be read or an entry is incomplete.
    """
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise ValueError(f"cannot read credentials file {path}: {error.strerror}") from None
    if text.lstrip().startswith("{"):
        return _credentials_from_json(text, path, default_account)
    return _credentials_from_ini(text, path, default_account)


def _credentials_from_json(text: str, path: Path, default_account: str) -> list[Credential]:
    try:
        data = json.loads(text)
    except ValueError as error:
        raise ValueError(f"credentials file {path} is not valid JSON: {error}") from None
    out = []
    for key, value in data.items():
        if is_api_key_entry(value):
            continue  # (an OpenLineage bearer key: server/api_keys.py)
        if isinstance(value, str):
            out.append(Credential(key, value, default_account))
        elif isinstance(value, dict) and isinstance(value.get("secret_access_key"), str):
            out.append(
                Credential(
                    key,
                    value["secret_access_key"],
                    str(value.get("account_id", default_account)),
                    value.get("user"),
                )
            )
        else:
            raise ValueError(
                f"credentials file {path}: {key!r} must map to a secret or to an object with "
                '"secret_access_key" (and optionally "account_id", "user")'
            )
    return out


def _credentials_from_ini(text: str, path: Path, default_account: str) -> list[Credential]:
    parser = configparser.ConfigParser(interpolation=None)
    try:
        parser.read_string(text, source=str(path))
    except configparser.Error as error:
        raise ValueError(f"credentials file {path} is neither JSON nor INI: {error}") from None
    out = []
    for section in parser.sections():
        entry = parser[section]
        if is_api_key_entry(entry):
            continue  # (an OpenLineage bearer key: server/api_keys.py)
        key = entry.get("aws_access_key_id")
        secret = entry.get("aws_secret_access_key")
        if not key or not secret:
            raise ValueError(
                f"credentials file {path}: section [{section}] needs aws_access_key_id and "
                "aws_secret_access_key"
            )
        out.append(Credential(key, secret, entry.get("account_id", default_account), section))
    return out


def is_api_key_entry(value: Any) -> bool:
    """A credentials-file entry that holds only an API key (``Authorization: Bearer``, see
    server/api_keys.py), which the access-key loaders leave to the API-key loader."""
    return (
        isinstance(value, Mapping)
        and "api_key" in value
        and "secret_access_key" not in value
        and "aws_secret_access_key" not in value
    )


def load_credentials(
    file: Path | None = None,
    env: Mapping[str, str] | None = None,
    *,
    default_account: str = DEFAULT_ACCOUNT_ID,
) -> dict[str, Credential]:
    """Every configured access key: those of ``file`` and of ``MLLINEAGE_CREDENTIALS``.

    Raises:
        ValueError: an entry is malformed, or one key is given twice with different secrets.
    """
    found: list[Credential] = []
    if file is not None:
        found += load_credentials_file(file, default_account=default_account)
    text = (env if env is not None else {}).get(ENV_CREDENTIALS)
    if text:
        found += parse_credentials_env(text, default_account=default_account)
    out: dict[str, Credential] = {}
    for cred in found:
        if cred.access_key_id in out and out[cred.access_key_id] != cred:
            raise ValueError(f"access key {cred.access_key_id} is configured twice, differently")
        out[cred.access_key_id] = cred
    return out


# -- verification ------------------------------------------------------------------------------
@dataclass(frozen=True)
class Caller:
    """Who sent a request, once its signature checked out."""

    credential: Credential
    region: str  # the region of the signature's credential scope


@dataclass(frozen=True)
class SignedRequest:
    """The parts of an HTTP request that a SigV4 signature covers."""

    method: str
    raw_path: str  # percent-encoded, as received
    query_string: str
    headers: Sequence[tuple[str, str]]  # every header, names in any case, repeats allowed
    body: bytes

    def header(self, name: str) -> str | None:
        name = name.lower()
        values = [v for k, v in self.headers if k.lower() == name]
        return ",".join(values) if values else None


@dataclass(frozen=True)
class _Authorization:
    access_key_id: str
    date: str
    region: str
    service: str
    terminator: str
    signed_headers: tuple[str, ...]
    signature: str


class _Resigner(SigV4Auth):
    """botocore's signer, made to sign exactly the headers the client said it signed."""

    def __init__(
        self,
        credentials: Credentials,
        service: str,
        region: str,
        signed: Iterable[tuple[str, str]],
        body_sha256: str,
    ) -> None:
        super().__init__(credentials, service, region)
        self._signed = list(signed)
        self._body_sha256 = body_sha256

    def headers_to_sign(self, request: AWSRequest) -> HTTPHeaders:
        headers = HTTPHeaders()
        for name, value in self._signed:
            headers[name] = value  # HTTPHeaders appends, so repeated headers stay repeated
        return headers

    def payload(self, request: AWSRequest) -> str:
        return self._body_sha256


class SigV4Verifier:
    """Checks AWS SigV4 signatures against a set of access keys.

    Args:
        credentials: the accepted keys.
        region: if given, signatures must be scoped to this region (as an AWS endpoint is);
            otherwise any region is accepted.
        clock: seconds since the epoch (injectable for tests).

    Example:
        >>> verifier = SigV4Verifier([Credential("AKIDEXAMPLE", "secret")])
        >>> caller = verifier.verify(signed_request)  # doctest: +SKIP
    """

    def __init__(
        self,
        credentials: Iterable[Credential] | Mapping[str, Credential],
        *,
        region: str | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        creds = credentials.values() if isinstance(credentials, Mapping) else credentials
        self.credentials = {c.access_key_id: c for c in creds}
        self.region = region
        self._clock = clock

    def __repr__(self) -> str:
        return f"SigV4Verifier({len(self.credentials)} access keys, region={self.region!r})"

    def verify(self, request: SignedRequest) -> Caller:
        """The caller of a correctly signed request.

        Raises:
            MissingAuthenticationTokenException: no ``Authorization`` header.
            IncompleteSignatureException: a header cannot be read.
            UnrecognizedClientException: the access key is unknown.
            InvalidSignatureException: wrong scope, expired, or not the right signature.
        """
        header = request.header("Authorization")
        if not header:
            raise MissingAuthenticationTokenException("Missing Authentication Token")
        auth = _parse_authorization(header)
        credential = self.credentials.get(auth.access_key_id)
        if credential is None:
            raise UnrecognizedClientException(
                "The security token included in the request is invalid."
            )
        amz_date = request.header("X-Amz-Date")
        if not amz_date:
            raise IncompleteSignatureException(
                "Authorization header requires existence of a 'X-Amz-Date' header."
            )
        moment = _parse_amz_date(amz_date)
        self._check_scope(auth, amz_date)
        if "host" not in auth.signed_headers:
            raise IncompleteSignatureException(
                "'Host' must be a 'SignedHeader' in the AWS Authorization."
            )
        if request.header("X-Amz-Target") is not None and "x-amz-target" not in auth.signed_headers:
            # An unsigned target would let anyone replay a signed body as another operation.
            raise IncompleteSignatureException(
                "'X-Amz-Target' must be a 'SignedHeader' in the AWS Authorization."
            )
        self._check_clock(moment, amz_date)
        body_sha256 = hashlib.sha256(request.body).hexdigest()
        claimed = request.header("X-Amz-Content-SHA256")
        if claimed is not None and claimed != body_sha256:
            raise InvalidSignatureException(
                "The provided 'x-amz-content-sha256' header does not match what was computed."
            )
        expected = self._signature(request, auth, credential, amz_date, body_sha256)
        if not hmac.compare_digest(expected.encode(), auth.signature.encode()):
            raise InvalidSignatureException(_BAD_SIGNATURE)
        return Caller(credential, auth.region)

    def _check_scope(self, auth: _Authorization, amz_date: str) -> None:
        if auth.date != amz_date[:8]:
            raise InvalidSignatureException(
                "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of "
                f"date from HTTP: '{auth.date}' != '{amz_date[:8]}', from '{amz_date}'."
            )
        if self.region is not None and auth.region != self.region:
            raise InvalidSignatureException(
                f"Credential should be scoped to a valid region, not '{auth.region}'. "
                f"This server serves '{self.region}'."
            )
        if auth.service != SERVICE_NAME:
            raise InvalidSignatureException(
                f"Credential should be scoped to correct service: '{SERVICE_NAME}'."
            )
        if auth.terminator != "aws4_request":
            raise InvalidSignatureException(
                "Credential should be scoped with a valid terminator: 'aws4_request', "
                f"not '{auth.terminator}'."
            )

    def _check_clock(self, moment: datetime, amz_date: str) -> None:
        now = datetime.fromtimestamp(self._clock(), tz=timezone.utc).replace(microsecond=0)
        if moment < now - MAX_CLOCK_SKEW:
            raise InvalidSignatureException(
                f"Signature expired: {amz_date} is now earlier than "
                f"{(now - MAX_CLOCK_SKEW).strftime(_AMZ_DATE)} "
                f"({now.strftime(_AMZ_DATE)} - 15 min.)"
            )
        if moment > now + MAX_CLOCK_SKEW:
            raise InvalidSignatureException(
                f"Signature not yet current: {amz_date} is still later than "
                f"{(now + MAX_CLOCK_SKEW).strftime(_AMZ_DATE)} "
                f"({now.strftime(_AMZ_DATE)} + 15 min.)"
            )

    def _signature(
        self,
        request: SignedRequest,
        auth: _Authorization,
        credential: Credential,
        amz_date: str,
        body_sha256: str,
    ) -> str:
        signed = [
            (name, value)
            for name in auth.signed_headers
            for key, value in request.headers
            if key.lower() == name
        ]
        query = f"?{request.query_string}" if request.query_string else ""
        # Only the URL's path and query are signed (the Host header is among the signed
        # headers), and _Resigner fixes the payload hash, so the scheme and host are dummies.
        aws_request = AWSRequest(
            method=request.method, url=f"http://mllineage{request.raw_path}{query}"
        )
        aws_request.context["timestamp"] = amz_date
        signer = _Resigner(
            Credentials(credential.access_key_id, credential.secret_access_key),
            auth.service,
            auth.region,
            signed,
            body_sha256,
        )
        try:
            canonical = signer.canonical_request(aws_request)
        except ValueError:  # a path urllib cannot split: no client could have signed it
            raise InvalidSignatureException(_BAD_SIGNATURE) from None
        return signer.signature(signer.string_to_sign(aws_request, canonical), aws_request)


def _parse_authorization(header: str) -> _Authorization:
    algorithm, _, rest = header.strip().partition(" ")
    if algorithm != _ALGORITHM:
        raise IncompleteSignatureException(
            f"Unsupported Authorization algorithm; only {_ALGORITHM} (SigV4) is accepted."
        )
    params: dict[str, str] = {}
    for part in rest.split(","):
        name, eq, value = part.strip().partition("=")
        if eq:
            params[name.strip()] = value.strip()
    missing = [p for p in ("Credential", "SignedHeaders", "Signature") if not params.get(p)]
    if missing:
        raise IncompleteSignatureException(
            " ".join(f"Authorization header requires '{p}' parameter." for p in missing)
            + f" Authorization={_ALGORITHM} ..."
        )
    scope = params["Credential"].split("/")
    if len(scope) != 5 or not all(scope):
        raise IncompleteSignatureException(
            "Credential must have exactly 5 slash-delimited elements, e.g. "
            "keyid/date/region/service/aws4_request."
        )
    return _Authorization(
        access_key_id=scope[0],
        date=scope[1],
        region=scope[2],
        service=scope[3],
        terminator=scope[4],
        signed_headers=tuple(h.strip().lower() for h in params["SignedHeaders"].split(";")),
        signature=params["Signature"],
    )


def _parse_amz_date(value: str) -> datetime:
    try:
        return datetime.strptime(value, _AMZ_DATE).replace(tzinfo=timezone.utc)
    except ValueError:
        raise IncompleteSignatureException(
            f"X-Amz-Date must be in the ISO 8601 basic format YYYYMMDD'T'HHMMSS'Z', "
            f"got {value[:40]!r}."
        ) from None

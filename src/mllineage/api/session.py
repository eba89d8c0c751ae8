"""``Session``: which store to use, as which region and account.

With no URL, a session uses ``MLLINEAGE_URL``; with neither, an SQLite file in the user's data
directory (``default_store_url()``; on Linux ``~/.local/share/mllineage/lineage.db``).
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any

import platformdirs

from mllineage.store.base import Store

if TYPE_CHECKING:
    from mllineage.api.bulk import BulkWriter

ENV_URL = "MLLINEAGE_URL"
ENV_REGION = "MLLINEAGE_REGION"
ENV_ACCOUNT_ID = "MLLINEAGE_ACCOUNT_ID"
DEFAULT_REGION = "local"
DEFAULT_ACCOUNT_ID = "000000000000"


def default_store_path() -> Path:
    """Where the embedded store lives when nothing is configured."""
    return Path(platformdirs.user_data_dir("mllineage")) / "lineage.db"


def default_store_url() -> str:
    """``MLLINEAGE_URL`` if set, else the SQLite file of :func:`default_store_path`."""
    return os.environ.get(ENV_URL) or f"sqlite:///{default_store_path()}"


def open_store(url: str, *, region: str | None = None, account_id: str | None = None) -> Store:
    """Open the store a URL names: ``sqlite:///file``, ``sqlite://``, ``postgresql://...``
    or ``http(s)://host:port`` (an mllineage server)."""
    if not isinstance(url, str) or not url:
        raise ValueError(f"url must be a non-empty string, got {url!r}")
    if url.startswith(("http://", "https://")):
        from mllineage.store.http import HttpStore

        return HttpStore(url, region=region, account_id=account_id)
    from mllineage.store.sql.store import SqlStore

    return SqlStore(
        url,
        region=region or DEFAULT_REGION,
        account_id=account_id or DEFAULT_ACCOUNT_ID,
    )


class Session:
    """A connection to a lineage store, passed as ``sagemaker_session=`` to every API call.

    Args:
        url: the store (see :func:`open_store`); default ``MLLINEAGE_URL`` or the embedded
            SQLite file.
        region: the region in ARNs (default ``MLLINEAGE_REGION`` or ``local``).
        account_id: the 12-digit account in ARNs (default ``MLLINEAGE_ACCOUNT_ID`` or
            ``000000000000``). Through a server, the server decides both from your credentials.
        store: use this already-open store instead of opening ``url``.

    Example:
        >>> session = Session("sqlite://")
        >>> from mllineage import Context
        >>> Context.create(context_name="demo", context_type="Project",
        ...                sagemaker_session=session).context_arn
        'arn:aws:sagemaker:local:000000000000:context/demo'
    """

    def __init__(
        self,
        url: str | None = None,
        region: str | None = None,
        account_id: str | None = None,
        *,
        store: Store | None = None,
    ) -> None:
        self.url = url or (store.url if store is not None else default_store_url())
        self.region = region or os.environ.get(ENV_REGION) or None
        self.account_id = account_id or os.environ.get(ENV_ACCOUNT_ID) or None
        self.store: Store = store or open_store(
            self.url, region=self.region, account_id=self.account_id
        )

    def batch(self) -> AbstractContextManager[None]:
        """Make every call in the ``with`` block one atomic transaction (all or nothing)::

        with session.batch():
            for uri in uris:
                Artifact.create(artifact_type="Dataset", source={"source_uri": uri},
                                sagemaker_session=session)
        """
        return self.store.batch()

    def bulk(self) -> BulkWriter:
        """Collect entities and associations in a ``with`` block and write them in one
        atomic call at bulk speed (see :mod:`mllineage.api.bulk`)."""
        from mllineage.api.bulk import BulkWriter

        return BulkWriter(self.store)

    def close(self) -> None:
        self.store.close()

    def __enter__(self) -> Session:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    @contextmanager
    def as_default(self) -> Iterator[Session]:
        """Use this session wherever ``sagemaker_session`` is omitted, inside the block."""
        previous = _default.session
        set_default_session(self)
        try:
            yield self
        finally:
            set_default_session(previous)

    def __repr__(self) -> str:
        return f"Session(url={self.url!r})"


class _DefaultHolder(threading.local):
    session: Session | None = None


_default = _DefaultHolder()
_shared_lock = threading.Lock()
_shared: Session | None = None


def set_default_session(session: Session | None) -> None:
    """Make ``session`` the default of this thread (``None``: back to the shared default)."""
    _default.session = session


def get_default_session() -> Session:
    """The session used when ``sagemaker_session`` is omitted: the one set for this thread,
    else one shared session opened on first use from ``MLLINEAGE_URL`` or the embedded file."""
    if _default.session is not None:
        return _default.session
    global _shared
    with _shared_lock:
        if _shared is None or _shared.url != default_store_url():
            if _shared is not None:
                _shared.close()
            _shared = Session()
        return _shared


def resolve_session(session: Any) -> Session:
    """The session a call should use: the one given, or the default."""
    if session is None:
        return get_default_session()
    if isinstance(session, Session):
        return session
    raise ValueError(
        f"sagemaker_session must be an mllineage.Session, got {type(session).__name__}"
    )

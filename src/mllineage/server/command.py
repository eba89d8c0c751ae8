"""``mllineage serve``: run the server on uvicorn.

The command is a plain Typer function so that the CLI can register it
(``app.command()(serve)``) and ``python -m mllineage.server`` can run it on its own.
"""

from __future__ import annotations

import copy
import ipaddress
import json
import logging
import logging.config
import os
import secrets
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urlsplit, urlunsplit

import typer

from mllineage import limits
from mllineage.api.session import default_store_url
from mllineage.server.api_keys import ApiKeys, load_api_keys
from mllineage.server.app import DEFAULT_MAX_BODY_BYTES, DEFAULT_MAX_BULK_BODY_BYTES, create_app
from mllineage.server.auth import DEFAULT_ACCOUNT_ID, SigV4Verifier, load_credentials
from mllineage.version import __version__

logger = logging.getLogger("mllineage.server")

#: Environment variable that hands the configuration to uvicorn's worker processes.
_CONFIG_ENV = "MLLINEAGE_SERVE_CONFIG"
_LOG_LEVELS = ("critical", "error", "warning", "info", "debug")


def redact_url(url: str) -> str:
    """``url`` without its password, for messages and logs."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@", 1)
    return urlunsplit(parts._replace(netloc=netloc))


def is_loopback(host: str) -> bool:
    """Whether binding ``host`` keeps the server reachable from this machine only."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def build_app(config: dict[str, Any]) -> Any:
    """The ASGI app for a configuration (what ``serve`` and each uvicorn worker build)."""
    from mllineage.store.sql.store import DEFAULT_REGION, SqlStore

    url = config["store"]
    if not url.startswith(("sqlite:", "postgresql:", "postgres:", "postgresql+psycopg:")):
        raise ValueError(
            f"--store {redact_url(url)!r}: the server needs a sqlite:/// or postgresql:// URL"
        )
    store = SqlStore(
        url,
        region=config["region"] or DEFAULT_REGION,
        account_id=config["account_id"],
        query_timeout=config.get("query_timeout", limits.QUERY_TIMEOUT_SECONDS),
    )
    verifier = api_keys = None
    if not config["no_auth"]:
        try:
            verifier, api_keys = _keys(config)
        except ValueError:
            store.close()
            raise
    return create_app(
        store,
        auth=verifier,
        max_body_bytes=config["max_body_bytes"],
        max_bulk_body_bytes=config["max_bulk_body_bytes"],
        session_key=config.get("session_key"),
        api_keys=api_keys,
        mlflow_webhook_secret=config.get("mlflow_webhook_secret"),
        mlflow_tracking_uri=config.get("mlflow_tracking_uri"),
    )


def _keys(config: dict[str, Any]) -> tuple[SigV4Verifier, ApiKeys]:
    """The access keys (SigV4) and the API keys (OpenLineage's bearer tokens) configured."""
    file = Path(config["credentials"]) if config["credentials"] else None
    credentials = load_credentials(file, os.environ, default_account=config["account_id"])
    api_keys = load_api_keys(file, os.environ, default_account=config["account_id"])
    if not credentials and not api_keys:
        raise ValueError(
            "no access keys configured: pass --credentials FILE or set "
            "MLLINEAGE_CREDENTIALS=KEY:SECRET[:ACCOUNT] (and MLLINEAGE_API_KEYS=KEY[:ACCOUNT] "
            "for OpenLineage clients), or use --no-auth for local use"
        )
    return SigV4Verifier(credentials, region=config["region"]), api_keys


def app_from_env() -> Any:
    """uvicorn's factory in worker processes: the configuration comes through the environment."""
    return build_app(json.loads(os.environ[_CONFIG_ENV]))


def _log_config(level: str) -> dict[str, Any]:
    from uvicorn.config import LOGGING_CONFIG

    config = copy.deepcopy(LOGGING_CONFIG)
    config["loggers"]["mllineage"] = {
        "handlers": ["default"],
        "level": level.upper(),
        "propagate": False,
    }
    return config


def serve(
    store: Annotated[
        str | None,
        typer.Option(
            "--store",
            help="Store URL (sqlite:///path.db or postgresql://...). "
            "Default: $MLLINEAGE_URL, else the per-user SQLite file.",
            show_default=False,
        ),
    ] = None,
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8080,
    no_auth: Annotated[
        bool,
        typer.Option("--no-auth", help="Accept unsigned requests (local use only)."),
    ] = False,
    allow_unauthenticated_remote: Annotated[
        bool,
        typer.Option(
            "--allow-unauthenticated-remote",
            help="Allow --no-auth on an address other than loopback (anyone who can reach "
            "the port can then read and change all lineage).",
        ),
    ] = False,
    credentials: Annotated[
        Path | None,
        typer.Option(
            help="Access keys: a JSON or INI file (see the docs); adds to "
            "$MLLINEAGE_CREDENTIALS (KEY:SECRET[:ACCOUNT],...).",
            exists=True,
            dir_okay=False,
        ),
    ] = None,
    region: Annotated[
        str | None,
        typer.Option(
            help="Region in ARNs; when given, signatures must be scoped to it. "
            "Default: the store's ('local'), any signing region accepted.",
            show_default=False,
        ),
    ] = None,
    account_id: Annotated[
        str,
        typer.Option(help="Account for --no-auth and for keys configured without one."),
    ] = DEFAULT_ACCOUNT_ID,
    log_level: Annotated[str, typer.Option(help=f"One of {', '.join(_LOG_LEVELS)}.")] = "info",
    workers: Annotated[int, typer.Option(min=1, help="Worker processes.")] = 1,
    max_body_bytes: Annotated[
        int, typer.Option(min=1024, help="Largest request body accepted.")
    ] = DEFAULT_MAX_BODY_BYTES,
    max_bulk_body_bytes: Annotated[
        int,
        typer.Option(
            min=1024, help="Largest body of a bulk call (PutLineage: a Session.bulk() block)."
        ),
    ] = DEFAULT_MAX_BULK_BODY_BYTES,
    query_timeout: Annotated[
        float,
        typer.Option(min=0.001, help="Seconds a lineage query may run before it is refused."),
    ] = limits.QUERY_TIMEOUT_SECONDS,
    mlflow_webhook_secret: Annotated[
        str | None,
        typer.Option(
            envvar="MLLINEAGE_MLFLOW_WEBHOOK_SECRET",
            help="Receive MLflow's model registry webhooks signed with this secret at "
            "POST /mlflow/webhook (default $MLLINEAGE_MLFLOW_WEBHOOK_SECRET; off when unset).",
            show_default=False,
        ),
    ] = None,
    mlflow_tracking_uri: Annotated[
        str | None,
        typer.Option(
            envvar="MLLINEAGE_MLFLOW_TRACKING_URI",
            help="The MLflow server those webhooks come from: each delivery then imports the "
            "version's run, datasets and model from it.",
            show_default=False,
        ),
    ] = None,
) -> None:
    """Serve the SageMaker lineage API (boto3, the SageMaker SDK, MLLINEAGE_URL=http://...)
    and the web UI at /ui/ (sign in there with an access key and its secret)."""
    import uvicorn

    from mllineage.server.protocol import NoDelayHTTPProtocol

    if log_level.lower() not in _LOG_LEVELS:
        raise typer.BadParameter(
            f"must be one of {', '.join(_LOG_LEVELS)}", param_hint="--log-level"
        )
    if no_auth and not is_loopback(host) and not allow_unauthenticated_remote:
        typer.secho(
            f"refusing --no-auth on {host}: anyone who can reach it could read and change all "
            "lineage. Bind 127.0.0.1, drop --no-auth, or add --allow-unauthenticated-remote.",
            err=True,
            fg="red",
        )
        raise typer.Exit(2)
    config = {
        "store": store or default_store_url(),
        "region": region,
        "account_id": account_id,
        "no_auth": no_auth,
        "credentials": str(credentials) if credentials else None,
        "max_body_bytes": max_body_bytes,
        "max_bulk_body_bytes": max_bulk_body_bytes,
        "query_timeout": query_timeout,
        "mlflow_webhook_secret": mlflow_webhook_secret,
        "mlflow_tracking_uri": mlflow_tracking_uri,
        # Signs the web UI's session cookies; shared by the workers so each honours the
        # others' cookies, and new at every start, so a restart ends every sign-in.
        "session_key": secrets.token_urlsafe(32),
    }
    if workers > 1 and config["store"] in ("sqlite://", "sqlite:///:memory:"):
        typer.secho("an in-memory store cannot be shared by several workers", err=True, fg="red")
        raise typer.Exit(2)
    # uvicorn's handlers, configured now so that start-up messages are formatted alike.
    logging.config.dictConfig(_log_config(log_level))
    try:
        app = build_app(config)  # also validates the configuration before workers start
    except ValueError as error:
        typer.secho(f"error: {error}", err=True, fg="red")
        raise typer.Exit(2) from None
    if no_auth:
        typer.secho(
            "WARNING: authentication is OFF (--no-auth): every request is served, unsigned, "
            f"as account {account_id}. Use this for local work only.",
            err=True,
            fg="yellow",
            bold=True,
        )
    typer.secho(
        f"mllineage {__version__} serving {redact_url(str(config['store']))} on "
        f"http://{host}:{port} (authentication: {'off' if no_auth else 'SigV4'}); "
        f"web UI: http://{host}:{port}/ui/",
        err=True,
    )
    common: dict[str, Any] = {
        "host": host,
        "port": port,
        "log_level": log_level.lower(),
        "log_config": _log_config(log_level),
        "access_log": False,  # the app logs each call with its operation and account
        "http": NoDelayHTTPProtocol,
    }
    if workers == 1:
        uvicorn.run(app, **common)
        return
    os.environ[_CONFIG_ENV] = json.dumps(config)
    uvicorn.run("mllineage.server.command:app_from_env", factory=True, workers=workers, **common)

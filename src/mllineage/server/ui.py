"""The web UI's routes: the page shell, its static assets, sign-in and the JSON API.

``/ui/assets/<file>`` serves the built bundle (public: it holds no data). Every other
``GET /ui/<path>`` answers the page shell, whose script routes on the client. ``/ui/api/*``
is the JSON API the page reads (see ``ui_data``); its errors are
``{"error": {"code", "message"}}`` with a 4xx status.

When the server authenticates (SigV4), so does the UI: ``POST /ui/api/session`` checks an
access key and its secret and sets a signed, HttpOnly, SameSite=Strict session cookie bound to
that key (see ``ui_session``); the data routes then read the store that key's signed requests
would see. Without a valid session the data routes answer 401 and the pages redirect to the
sign-in page. Requests that change something need the session's CSRF token in
``X-CSRF-Token``; the sign-in itself needs a JSON body and a same-origin ``Origin``.
"""

from __future__ import annotations

import json
import logging
import time
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any
from urllib.parse import quote

from starlette.concurrency import run_in_threadpool
from starlette.requests import ClientDisconnect, Request
from starlette.responses import (
    FileResponse,
    HTMLResponse,
    JSONResponse,
    RedirectResponse,
    Response,
)
from starlette.routing import BaseRoute, Route

from mllineage.errors import ClientError
from mllineage.server import ui_data
from mllineage.server.auth import Credential
from mllineage.server.ui_session import SESSION_COOKIE, SessionSigner, UiSession
from mllineage.store.base import Store
from mllineage.version import __version__

logger = logging.getLogger("mllineage.server.ui")

#: Where the built page lives (``index.html`` and ``assets/``), inside the package.
STATIC_DIR = Path(__file__).resolve().parent.parent / "static" / "ui"
CSRF_HEADER = "x-csrf-token"
_DATA_ROUTES: dict[str, Callable[[Store, list[tuple[str, str]]], Any]] = {
    "summary": ui_data.summary,
    "entities": ui_data.entities,
    "entity": ui_data.entity,
    "history": ui_data.history,
    "lineage": ui_data.lineage,
}
_ANY_METHOD = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]
_SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
}
_SHELL_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data: blob:; font-src 'self' data:; connect-src 'self'; "
    "object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
)
_MISSING_BUNDLE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>mllineage {version}</title></head>
<body style="font-family: sans-serif; max-width: 42em; margin: 3em auto">
<h1>mllineage {version}</h1>
<p>The web UI's bundle is missing from this installation
(<code>mllineage/static/ui/index.html</code>). Build it with <code>npm run build</code> in
<code>frontend/</code>, or install a released package.</p>
<p>The API is served on <code>POST /</code>; <a href="/health">/health</a> checks the store.</p>
</body></html>
"""

Handler = Callable[[Request], Awaitable[Response]]
StoreFor = Callable[[Credential | None], Store]


class UiError(Exception):
    """A refusal of the UI API: an HTTP status, a code and a message for the page."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message


def error_response(status: int, code: str, message: str) -> JSONResponse:
    return JSONResponse(
        {"error": {"code": code, "message": message}},
        status,
        headers={**_SECURITY_HEADERS, "Cache-Control": "no-store"},
    )


class Ui:
    """The UI's handlers and what they need.

    Args:
        store_for: the store an access key's signed requests see (``None``: no auth).
        signer: the session cookies' signer; ``None`` when the server does not authenticate.
        read_body: reads a request body within the server's size limit.
        static_dir: the built page (default: the package's ``static/ui``).
    """

    def __init__(
        self,
        store_for: StoreFor,
        signer: SessionSigner | None,
        *,
        read_body: Callable[[Request], Awaitable[bytes]],
        static_dir: Path = STATIC_DIR,
    ) -> None:
        self.store_for = store_for
        self.signer = signer
        self.read_body = read_body
        self.static_dir = static_dir

    @property
    def auth(self) -> bool:
        return self.signer is not None

    def routes(self) -> list[BaseRoute]:
        routes: list[BaseRoute] = [
            Route("/ui/api/session", self.get_session, methods=["GET"]),
            Route("/ui/api/session", self.sign_in, methods=["POST"]),
            Route("/ui/api/session", self.sign_out, methods=["DELETE"]),
        ]
        for name, compute in _DATA_ROUTES.items():
            routes.append(Route(f"/ui/api/{name}", self._data_route(compute), methods=["GET"]))
        routes += [
            Route("/ui/api/export", self.export, methods=["GET"]),
            Route("/ui/api/{rest:path}", self.api_fallback, methods=_ANY_METHOD),
            Route("/ui/assets/{path:path}", self.asset, methods=["GET"]),
            Route("/ui", self.shell, methods=["GET"]),
            Route("/ui/{path:path}", self.shell, methods=["GET"]),
        ]
        return routes

    # -- sessions -----------------------------------------------------------------------------
    def current(self, request: Request) -> UiSession | None:
        if self.signer is None:
            return None
        return self.signer.open(request.cookies.get(SESSION_COOKIE))

    def _session_body(self, session: UiSession | None) -> dict[str, Any]:
        credential = session.credential if session is not None else None
        account: str | None = None
        if credential is not None:
            account = credential.account_id
        elif not self.auth:  # the account every request is served as
            account = getattr(self.store_for(None), "account_id", None)
        return {
            "auth": self.auth,
            "signed_in": session is not None or not self.auth,
            "access_key_id": credential.access_key_id if credential else None,
            "account_id": account,
            "csrf_token": session.csrf_token if session is not None else None,
            "version": __version__,
        }

    async def get_session(self, request: Request) -> Response:
        session = self.current(request)
        response = self._json(self._session_body(session))
        if session is None and SESSION_COOKIE in request.cookies:  # expired or no longer valid
            response.delete_cookie(SESSION_COOKIE, **_cookie_flags(request))
        return response

    async def sign_in(self, request: Request) -> Response:
        return await self._guarded(request, self._sign_in)

    async def _sign_in(self, request: Request) -> Response:
        if self.signer is None:
            raise _auth_disabled()
        media_type = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
        if media_type != "application/json":
            raise UiError(415, "UnsupportedMediaType", "sign in with a JSON body")
        origin = request.headers.get("origin")
        if origin is not None and origin != _own_origin(request):
            raise UiError(403, "BadOrigin", "sign-in is accepted from this server's pages only")
        key_id, secret = _credentials_from(await self.read_body(request))
        credential = self.signer.check_secret(key_id, secret)
        if credential is None:
            # Name only a configured key: a secret typed into the key field must not be logged.
            known = self.signer.knows(key_id)
            logger.warning(
                "ui sign-in refused for %s",
                f"access key {key_id}" if known else "an unknown access key",
            )
            raise UiError(401, "BadCredentials", "the access key ID or secret is wrong")
        value, session = self.signer.issue(credential)
        logger.info(
            "ui sign-in: access key %s, account %s", credential.access_key_id, credential.account_id
        )
        response = self._json(self._session_body(session))
        response.set_cookie(
            SESSION_COOKIE, value, max_age=self.signer.max_age, **_cookie_flags(request)
        )
        return response

    async def sign_out(self, request: Request) -> Response:
        return await self._guarded(request, self._sign_out)

    async def _sign_out(self, request: Request) -> Response:
        if self.signer is None:
            raise _auth_disabled()
        session = self.current(request)
        if session is not None and not self.signer.csrf_ok(
            session, request.headers.get(CSRF_HEADER)
        ):
            raise _bad_csrf()
        response = Response(status_code=204, headers=_SECURITY_HEADERS)
        response.delete_cookie(SESSION_COOKIE, **_cookie_flags(request))
        return response

    def _require(self, request: Request) -> Credential | None:
        """The signed-in key (``None`` when auth is off); 401 without a valid session."""
        if self.signer is None:
            return None
        session = self.current(request)
        if session is None:
            raise UiError(401, "NotSignedIn", "sign in to see this (POST /ui/api/session)")
        return session.credential

    # -- data -----------------------------------------------------------------------------------
    def _data_route(self, compute: Callable[[Store, list[tuple[str, str]]], Any]) -> Handler:
        async def handle(request: Request) -> Response:
            async def run(request: Request) -> Response:
                store = self.store_for(self._require(request))
                query = request.query_params.multi_items()
                return self._json(await run_in_threadpool(compute, store, query))

            return await self._guarded(request, run)

        return handle

    async def export(self, request: Request) -> Response:
        async def run(request: Request) -> Response:
            store = self.store_for(self._require(request))
            query = request.query_params.multi_items()
            out = await run_in_threadpool(ui_data.export, store, query)
            return Response(
                out.text,
                media_type=out.media_type,
                headers={
                    **_SECURITY_HEADERS,
                    "Content-Disposition": f'attachment; filename="{out.filename}"',
                    "Content-Security-Policy": "sandbox",
                    "Cache-Control": "no-store",
                },
            )

        return await self._guarded(request, run)

    async def api_fallback(self, request: Request) -> Response:
        """Any other ``/ui/api`` request: 401/403 before saying 404 or 405."""

        async def run(request: Request) -> Response:
            self._require(request)
            if request.method not in ("GET", "HEAD") and self.signer is not None:
                session = self.current(request)
                assert session is not None
                if not self.signer.csrf_ok(session, request.headers.get(CSRF_HEADER)):
                    raise _bad_csrf()
            name = request.path_params["rest"]
            if name in ("session", "export", *_DATA_ROUTES):
                raise UiError(
                    405, "MethodNotAllowed", f"{request.method} is not allowed on /ui/api/{name}"
                )
            raise UiError(404, "NotFound", f"no such API route: /ui/api/{name[:80]}")

        return await self._guarded(request, run)

    async def _guarded(self, request: Request, run: Handler) -> Response:
        """Run a UI API handler: refusals as JSON errors, bugs as a 500 without details."""
        started = time.perf_counter()
        try:
            response = await run(request)
        except UiError as error:
            response = error_response(error.status, error.code, error.message)
        except ui_data.BadParameter as error:
            response = error_response(400, "BadParameter", str(error))
        except ClientError as error:
            response = _store_error(error)
        except ClientDisconnect:
            response = Response(status_code=400)
        except Exception:
            request_id = str(uuid.uuid4())
            logger.exception("ui request %s (%s) failed", request_id, request.url.path)
            response = error_response(
                500, "InternalFailure", f"the server failed (request id {request_id})"
            )
        logger.info(
            "ui %s %s status=%d %.1fms",
            request.method,
            request.url.path[:120].encode("unicode_escape").decode("ascii"),
            response.status_code,
            (time.perf_counter() - started) * 1000,
        )
        return response

    def _json(self, body: Any) -> JSONResponse:
        return JSONResponse(body, headers={**_SECURITY_HEADERS, "Cache-Control": "no-store"})

    # -- pages and assets -----------------------------------------------------------------------
    async def shell(self, request: Request) -> Response:
        path = request.url.path
        if path == "/ui":
            return RedirectResponse("/ui/", 307)
        if path not in ("/ui/login", "/ui/login/") and self.current(request) is None and self.auth:
            target = path + (f"?{request.url.query}" if request.url.query else "")
            return RedirectResponse(f"/ui/login?next={quote(target, safe='')}", 303)
        headers = {
            **_SECURITY_HEADERS,
            "Cache-Control": "no-store",
            "Content-Security-Policy": _SHELL_CSP,
        }
        index = self.static_dir / "index.html"
        if not index.is_file():
            return HTMLResponse(_MISSING_BUNDLE.format(version=__version__), headers=headers)
        return FileResponse(index, media_type="text/html; charset=utf-8", headers=headers)

    async def asset(self, request: Request) -> Response:
        assets = (self.static_dir / "assets").resolve()
        try:
            wanted = (assets / request.path_params["path"]).resolve()
            found = wanted.is_relative_to(assets) and wanted.is_file()
        except (ValueError, OSError):  # a NUL byte, a name too long for the file system
            found = False
        if not found:
            return error_response(404, "NotFound", "no such asset")
        return FileResponse(
            wanted,
            headers={
                **_SECURITY_HEADERS,
                "Cache-Control": "public, max-age=31536000, immutable",
            },
        )


def _auth_disabled() -> UiError:
    return UiError(400, "AuthDisabled", "this server runs without authentication")


def _bad_csrf() -> UiError:
    return UiError(403, "BadCsrfToken", "the X-CSRF-Token header is missing or wrong")


def _cookie_flags(request: Request) -> dict[str, Any]:
    return {
        "path": "/ui",
        "secure": request.url.scheme == "https",
        "httponly": True,
        "samesite": "strict",
    }


def _own_origin(request: Request) -> str:
    return f"{request.url.scheme}://{request.headers.get('host', '')}"


def _credentials_from(body: bytes) -> tuple[str, str]:
    try:
        data = json.loads(body)
    except ValueError:
        raise ui_data.BadParameter("the body must be a JSON object") from None
    if not isinstance(data, dict):
        raise ui_data.BadParameter("the body must be a JSON object")
    values = []
    for name in ("access_key_id", "secret_access_key"):
        value = data.get(name)
        if not isinstance(value, str) or not value or len(value) > 1024 or not _encodable(value):
            raise ui_data.BadParameter(
                f"{name} must be a non-empty string of up to 1024 characters"
            )
        values.append(value)
    return values[0], values[1]


def _encodable(value: str) -> bool:
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:  # lone surrogates, which JSON can carry
        return False
    return True


def _store_error(error: ClientError) -> Response:
    if error.code == "ResourceNotFound":
        return error_response(404, "NotFound", error.message)
    if error.code == "RequestEntityTooLargeException":
        return error_response(413, "TooLarge", error.message)
    if 400 <= error.http_status < 500:
        code = "BadParameter" if error.code == "ValidationException" else error.code
        return error_response(error.http_status, code, error.message)
    logger.error("ui: the store failed: %s %s", error.code, error.message)
    return error_response(503, error.code, "the store could not answer; try again")

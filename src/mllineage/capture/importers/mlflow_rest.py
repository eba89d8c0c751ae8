"""MLflow's public REST API (``/api/2.0/mlflow/...``), the part the importer reads.

Through REST rather than MLflow's Python client: the importer then needs only ``httpx`` (the
``mlflow`` extra), works with any MLflow server version from 2.x on, and has no pins of
MLflow's to agree with. Authentication: ``MLFLOW_TRACKING_TOKEN`` (a bearer token) or
``MLFLOW_TRACKING_USERNAME``/``MLFLOW_TRACKING_PASSWORD`` (basic), as MLflow's own client
reads them.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

from mllineage.capture.importers.common import SourceError

#: Runs per ``runs/search`` page (MLflow's limit is 50,000; smaller pages keep memory flat).
RUN_PAGE = 1000


class MlflowRest:
    """A client of one MLflow tracking server.

    Args:
        tracking_uri: ``http(s)://host:port`` of the MLflow server.
        timeout: seconds per request.
    Raises:
        ValueError: the URI is not http(s).
    """

    def __init__(self, tracking_uri: str, timeout: float = 60.0) -> None:
        if not tracking_uri.startswith(("http://", "https://")):
            raise ValueError(
                f"--tracking-uri must be the http(s):// URL of an MLflow server, got "
                f"{tracking_uri!r}"
            )
        try:
            import httpx
        except ImportError:  # pragma: no cover - the extra is missing
            raise SourceError(
                "importing from MLflow needs httpx: pip install 'mllineage[mlflow]'"
            ) from None
        self.base = tracking_uri.rstrip("/")
        auth: Any = None
        headers = {}
        if os.environ.get("MLFLOW_TRACKING_TOKEN"):
            headers["Authorization"] = f"Bearer {os.environ['MLFLOW_TRACKING_TOKEN']}"
        elif os.environ.get("MLFLOW_TRACKING_USERNAME"):
            auth = (
                os.environ["MLFLOW_TRACKING_USERNAME"],
                os.environ.get("MLFLOW_TRACKING_PASSWORD", ""),
            )
        self._http = httpx.Client(
            base_url=f"{self.base}/api/2.0/mlflow/", timeout=timeout, headers=headers, auth=auth
        )
        self._httpx = httpx

    def close(self) -> None:
        self._http.close()

    def call(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        """One request; a failure is a :class:`SourceError` naming the server and why."""
        try:
            if method == "GET":
                response = self._http.get(path, params=body)
            else:
                response = self._http.post(path, json=body or {})
        except self._httpx.HTTPError as error:
            raise SourceError(f"MLflow server {self.base} is unreachable: {error}") from None
        if response.status_code == 404 and path.startswith("logged-models"):
            return None  # an MLflow 2 server: no logged models
        if response.status_code >= 400:
            try:
                detail = response.json().get("message", response.text)
            except ValueError:
                detail = response.text
            raise SourceError(
                f"MLflow server {self.base} answered {path} with HTTP {response.status_code}: "
                f"{' '.join(str(detail).split())[:300]}"
            )
        try:
            return response.json()
        except ValueError:
            raise SourceError(
                f"{self.base} is not an MLflow server: {path} did not answer JSON"
            ) from None

    def _pages(self, method: str, path: str, body: dict[str, Any], key: str) -> Iterator[Any]:
        body = dict(body)
        while True:
            page = self.call(method, path, body)
            if page is None:
                return
            yield from page.get(key, [])
            token = page.get("next_page_token")
            if not token:
                return
            body["page_token"] = token

    # -- what the importer reads -----------------------------------------------------------
    def experiments(self) -> Iterator[dict[str, Any]]:
        return self._pages(
            "POST", "experiments/search", {"max_results": 1000, "view_type": "ALL"}, "experiments"
        )

    def runs(self, experiment_ids: list[str], since_ms: int | None) -> Iterator[dict[str, Any]]:
        body: dict[str, Any] = {
            "experiment_ids": experiment_ids,
            "max_results": RUN_PAGE,
            "run_view_type": "ALL",
            "order_by": ["attributes.start_time ASC"],
        }
        if since_ms is not None:
            body["filter"] = f"attributes.start_time >= {since_ms}"
        return self._pages("POST", "runs/search", body, "runs")

    def run(self, run_id: str) -> dict[str, Any]:
        answer: dict[str, Any] = self.call("GET", "runs/get", {"run_id": run_id})["run"]
        return answer

    def logged_models(self, experiment_ids: list[str]) -> Iterator[dict[str, Any]]:
        body = {"experiment_ids": experiment_ids, "max_results": 100}
        return self._pages("POST", "logged-models/search", body, "models")

    def logged_model(self, model_id: str) -> dict[str, Any] | None:
        answer = self.call("GET", f"logged-models/{model_id}")
        return None if answer is None else answer.get("model")

    def registered_models(self) -> Iterator[dict[str, Any]]:
        return self._pages(
            "GET", "registered-models/search", {"max_results": 1000}, "registered_models"
        )

    def registered_model(self, name: str) -> dict[str, Any]:
        answer: dict[str, Any] = self.call("GET", "registered-models/get", {"name": name})
        return answer["registered_model"]  # type: ignore[no-any-return]

    def model_versions(self, name: str) -> Iterator[dict[str, Any]]:
        escaped = name.replace("'", "\\'")
        body = {"filter": f"name='{escaped}'", "max_results": 1000}
        return self._pages("GET", "model-versions/search", body, "model_versions")

    def model_version(self, name: str, version: str) -> dict[str, Any]:
        answer = self.call("GET", "model-versions/get", {"name": name, "version": version})
        return answer["model_version"]  # type: ignore[no-any-return]

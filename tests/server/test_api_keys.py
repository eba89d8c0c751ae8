"""OpenLineage API keys: configured like the access keys, each standing for an account."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest

from mllineage.server.api_keys import ApiKey, load_api_keys
from mllineage.server.auth import load_credentials
from mllineage.server.testing import ServerProcess
from tests.openlineage.events import new_run, run_event

KEY = "an-api-key-of-some-length"


def test_keys_from_the_environment() -> None:
    keys = load_api_keys(env={"MLLINEAGE_API_KEYS": f"{KEY}:111111111111, other-key-0123456789"})
    assert len(keys) == 2
    found = keys.find(KEY)
    assert found is not None
    assert found.account_id == "111111111111"
    assert keys.find("other-key-0123456789").account_id == "000000000000"  # type: ignore[union-attr]
    assert keys.find("not-a-key") is None


def test_keys_and_access_keys_share_the_credentials_file(tmp_path: Path) -> None:
    path = tmp_path / "credentials.json"
    path.write_text(
        json.dumps(
            {
                "AKIDALICE": {"secret_access_key": "s3cr3t", "account_id": "111111111111"},
                "airflow": {"api_key": KEY, "account_id": "222222222222"},
            }
        )
    )
    assert list(load_credentials(path)) == ["AKIDALICE"]
    found = load_api_keys(path).find(KEY)
    assert found == ApiKey(KEY, "222222222222", "airflow")
    ini = tmp_path / "credentials.ini"
    ini.write_text(f"[dbt]\napi_key = {KEY}\naccount_id = 333333333333\n")
    assert load_credentials(ini) == {}
    assert load_api_keys(ini).find(KEY) == ApiKey(KEY, "333333333333", "dbt")


@pytest.mark.parametrize(
    ("text", "match"),
    [
        pytest.param("short", "16-512 visible ASCII", id="short"),
        pytest.param(f"{KEY}:12", "12 digits", id="account"),
    ],
)
def test_bad_keys_are_refused_without_showing_them(text: str, match: str) -> None:
    with pytest.raises(ValueError, match=match) as info:
        load_api_keys(env={"MLLINEAGE_API_KEYS": text})
    assert KEY not in str(info.value)


def test_a_key_never_shows_in_its_repr() -> None:
    assert KEY not in repr(ApiKey(KEY))


def test_no_auth_takes_events_without_a_key(tmp_path: Path) -> None:
    with ServerProcess(f"sqlite:///{tmp_path / 'l.db'}") as server:
        reply = httpx.post(
            f"{server.url}/api/v1/lineage",
            content=run_event("START", new_run()),
            headers={"Content-Type": "application/json"},
        )
        assert reply.status_code == 201


def test_a_server_with_api_keys_only_starts(tmp_path: Path) -> None:
    with ServerProcess(
        f"sqlite:///{tmp_path / 'l.db'}", credentials={}, api_keys={KEY: "444444444444"}
    ) as server:
        sent = {"Content-Type": "application/json", "Authorization": f"Bearer {KEY}"}
        reply = httpx.post(
            f"{server.url}/api/v1/lineage", content=run_event("START", new_run()), headers=sent
        )
        assert reply.status_code == 201

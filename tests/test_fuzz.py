"""An outside client against the served OpenAPI: schemathesis generates requests for every API
operation (valid and invalid ones) and sends them over real HTTP, as the admin and as a station user,
to a demo province in a database of its own. No answer may be a server error, and every answer must
match the schema: its status documented, its body and headers as described.

A bounded run (a fixed seed, a few examples per operation): it takes a minute or two per backend. A
longer run is described in the README (Security)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, settings
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from sqlalchemy import create_engine

from gridcare import migrate
from gridcare.app import create_app
from gridcare.config import Settings
from gridcare.demo.loader import load_demo
from gridcare.demo.province import DEMO_PASSWORD
from tests.conftest import ScratchDatabases, serving

ROLES = ("admin", "station")
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    response_headers_conformance,
]
# Examples per operation and role; GRIDCARE_FUZZ_EXAMPLES=100 for a longer run (README, Security).
EXAMPLES = int(os.environ.get("GRIDCARE_FUZZ_EXAMPLES", "6"))


@pytest.fixture(scope="module")
def fuzz_site(scratch_databases: ScratchDatabases, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    url = scratch_databases.create()
    migrate.upgrade(url)
    engine = create_engine(url)
    load_demo(engine, customers=1000, seed=7, months=1, orders=200)
    engine.dispose()
    folder: Path = tmp_path_factory.mktemp("fuzz")
    site = Settings(
        database_url=url,
        secret_key="fuzz-secret-key-for-gridcare-tests-0123456789",
        secret_key_file=folder / "key",
        analytics_path=folder / "snapshot.duckdb",
        notice_file=folder / "notices.jsonl",
        api_rate_per_minute=0,  # the fuzzer is one user sending thousands of requests
    )
    with serving(site) as base:
        yield base


@pytest.fixture(scope="module")
def tokens(fuzz_site: str) -> dict[str, str]:
    found = {}
    for role in ROLES:
        answer = httpx.post(
            f"{fuzz_site}/api/v1/auth/token", data={"username": role, "password": DEMO_PASSWORD}, timeout=30
        )
        answer.raise_for_status()
        found[role] = answer.json()["access_token"]
    return found


def _served_schema() -> dict[str, object]:
    """The OpenAPI document `gridcare serve` publishes at /openapi.json (built from the routes alone:
    no database is touched). The tests then send the generated requests to a real server."""
    app = create_app(Settings(database_url="sqlite://", secret_key="x" * 40))
    document: dict[str, object] = app.openapi()
    return document


# Signing in and out would spend the fuzzer's own token and login attempts.
schema = schemathesis.openapi.from_dict(_served_schema()).exclude(path_regex=r"^/api/v1/auth/(token|logout)$")


FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=True,
    phases=[Phase.explicit, Phase.generate],
    suppress_health_check=list(HealthCheck),
)


@schema.parametrize()
@FUZZ
def test_as_the_admin(case: schemathesis.Case, fuzz_site: str, tokens: dict[str, str]) -> None:
    case.call_and_validate(
        base_url=fuzz_site, headers={"Authorization": f"Bearer {tokens['admin']}"}, checks=CHECKS, timeout=60
    )


@schema.parametrize()
@FUZZ
def test_as_a_station_user(case: schemathesis.Case, fuzz_site: str, tokens: dict[str, str]) -> None:
    case.call_and_validate(
        base_url=fuzz_site,
        headers={"Authorization": f"Bearer {tokens['station']}"},
        checks=CHECKS,
        timeout=60,
    )

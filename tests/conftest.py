"""Test infrastructure: one fresh database per run (SQLite file or a new PostgreSQL database, dropped
afterwards), built by the migrations; a real HTTP server on a free port; plain factories.

Choose the backend with `pytest --db sqlite` (default) or `pytest --db postgresql --pg-url URL`.
Tests never depend on each other's data: each builds its own small province with unique codes.
"""

from __future__ import annotations

import re
import socket
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
import uvicorn
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from gridcare import migrate, wiring
from gridcare.app import create_app
from gridcare.config import Settings
from gridcare.db import make_engine, make_session_factory
from gridcare.server import uvicorn_options
from tests.factories import World, build_world

wiring.load()  # every hook subscription, as the app and the CLI load them


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--db", default="sqlite", choices=["sqlite", "postgresql"], help="database backend")
    parser.addoption(
        "--pg-url",
        default="postgresql+psycopg://postgres@127.0.0.1:5432/postgres",
        help="PostgreSQL server (any database on it) where test databases are created and dropped",
    )


class ScratchDatabases:
    """Creates empty databases on the chosen backend and removes them when the run ends."""

    def __init__(self, backend: str, pg_url: str, tmp_dir: Path) -> None:
        self.backend = backend
        self.pg_url = pg_url
        self.tmp_dir = tmp_dir
        self._created: list[str] = []

    def _admin(self) -> Engine:
        return create_engine(self.pg_url, isolation_level="AUTOCOMMIT")

    def create(self) -> str:
        name = f"gridcare_test_{uuid.uuid4().hex[:10]}"
        if self.backend == "sqlite":
            return f"sqlite:///{self.tmp_dir / (name + '.db')}"
        admin = self._admin()
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        admin.dispose()
        self._created.append(name)
        return make_url(self.pg_url).set(database=name).render_as_string(hide_password=False)

    def drop_all(self) -> None:
        if not self._created:
            return
        admin = self._admin()
        with admin.connect() as conn:
            for name in self._created:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(scope="session")
def scratch_databases(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ScratchDatabases]:
    dbs = ScratchDatabases(
        request.config.getoption("--db"), request.config.getoption("--pg-url"), tmp_path_factory.mktemp("db")
    )
    yield dbs
    dbs.drop_all()


@pytest.fixture(scope="session")
def database_url(scratch_databases: ScratchDatabases) -> str:
    url = scratch_databases.create()
    migrate.upgrade(url)
    return url


@pytest.fixture(scope="session")
def settings(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Settings:
    return Settings(
        database_url=database_url,
        secret_key="test-secret-key-for-gridcare-tests-only-0123456789",
        secret_key_file=tmp_path_factory.mktemp("secret") / "key",
        analytics_path=tmp_path_factory.mktemp("analytics") / "snapshot.duckdb",
        notice_file=tmp_path_factory.mktemp("notices") / "notices.jsonl",
        login_max_failures=5,
        login_window_seconds=300,
        # Tests drive one user hard; the per-user rate limit has its own test (tests/test_http.py).
        api_rate_per_minute=0,
    )


@pytest.fixture(scope="session")
def engine(settings: Settings) -> Iterator[Engine]:
    engine = make_engine(settings)
    yield engine
    engine.dispose()


@pytest.fixture(scope="session")
def session_factory(engine: Engine) -> sessionmaker[Session]:
    return make_session_factory(engine)


@pytest.fixture
def session(session_factory: sessionmaker[Session]) -> Iterator[Session]:
    """A session whose work is rolled back at the end (service tests that need no commit)."""
    s = session_factory()
    yield s
    s.rollback()
    s.close()


@pytest.fixture
def world(session_factory: sessionmaker[Session]) -> World:
    """A small committed province of its own: city → 2 counties → 3 stations, users in every role."""
    with session_factory() as s:
        w = build_world(s)
        s.commit()
    return w


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@contextmanager
def serving(settings: Settings) -> Iterator[str]:
    """The application on these settings, served over real HTTP by uvicorn in a background thread."""
    port = _free_port()
    options = {**uvicorn_options(settings), "log_level": "warning", "log_config": None}
    config = uvicorn.Config(create_app(settings), host="127.0.0.1", port=port, **options)
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline:
            raise RuntimeError("test server did not start")
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


@pytest.fixture(scope="session")
def base_url(settings: Settings) -> Iterator[str]:
    with serving(settings) as url:
        yield url


@pytest.fixture
def client(base_url: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=base_url, timeout=30) as c:
        yield c


def concurrently(
    n: int, call: Callable[[httpx.Client], httpx.Response], base_url: str
) -> list[httpx.Response]:
    """Send `n` requests at the same instant, each from its own connection; their responses."""
    responses: list[httpx.Response] = []
    barrier = threading.Barrier(n)

    def one() -> None:
        with httpx.Client(base_url=base_url, timeout=30) as c:
            barrier.wait()
            responses.append(call(c))

    threads = [threading.Thread(target=one) for _ in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return responses


def login(client: httpx.Client, username: str, password: str) -> dict[str, str]:
    response = client.post("/api/v1/auth/token", data={"username": username, "password": password})
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


def web_login(
    client: httpx.Client, username: str, password: str, *, next: str = "/workbench"
) -> httpx.Response:
    """Sign in through the page as a browser does: the sign-in form first (its CSRF cookie and token),
    then the post. The response to the post (303 on success)."""
    page = client.get("/login", params={"next": next})
    assert page.status_code == 200, page.text
    token = re.search(r'name="_csrf" value="([0-9a-f]+)"', page.text)
    assert token is not None
    return client.post(
        "/login", data={"username": username, "password": password, "next": next, "_csrf": token.group(1)}
    )

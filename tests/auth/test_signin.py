"""Sign-in that holds: limits per account and address that concurrency cannot slip past, no lock-out
button for strangers, sessions that end when the user signs out, a CSRF-protected sign-in form, a
secret key that must be strong, and client addresses that only configured proxies may rewrite."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from gridcare.auth.service import sign_in
from gridcare.config import Settings
from gridcare.errors import AuthenticationFailed, TooManyAttempts
from gridcare.models import AuditEntry, LoginAttempt
from tests.conftest import concurrently, login, serving, web_login
from tests.factories import PASSWORD, World, make_user


def attempt(factory: sessionmaker[Session], settings: Settings, username: str, password: str, ip: str) -> str:
    """'ok', 'wrong' or 'limited' for one sign-in from `ip`."""
    try:
        sign_in(factory, username=username, password=password, client_ip=ip, settings=settings, kind="api")
    except TooManyAttempts:
        return "limited"
    except AuthenticationFailed:
        return "wrong"
    return "ok"


def test_a_success_keeps_everyone_elses_failures(
    world: World, session_factory: sessionmaker[Session], settings: Settings
) -> None:
    """A successful sign-in from an address used to wipe every failure recorded from it, whoever they
    were for: an attacker with one valid account could reset the limit between guesses."""
    target, own = world.users["auditor"].username, world.users["manager"].username
    ip = "203.0.113.7"
    outcomes = []
    for _ in range(3):
        for _ in range(2):
            outcomes.append(attempt(session_factory, settings, target, "guess", ip))
        assert attempt(session_factory, settings, own, PASSWORD, ip) == "ok"
    assert outcomes.count("wrong") == settings.login_max_failures
    assert outcomes[-1] == "limited"


def test_concurrent_guesses_get_no_more_evaluations_than_the_limit(
    world: World, base_url: str, settings: Settings, session_factory: sessionmaker[Session]
) -> None:
    username = world.users["admin"].username
    answers = concurrently(
        40,
        lambda c: c.post("/api/v1/auth/token", data={"username": username, "password": "wrong"}),
        base_url,
    )
    statuses = sorted(r.status_code for r in answers)
    assert statuses.count(401) <= settings.login_max_failures
    assert set(statuses) <= {401, 429}
    with session_factory() as s:
        evaluated = s.scalar(
            select(func.count()).where(LoginAttempt.username == username, LoginAttempt.outcome == "failed")
        )
    assert evaluated == statuses.count(401)


def test_rotating_addresses_are_bounded_per_account_and_the_owner_still_gets_in(
    session_factory: sessionmaker[Session], settings: Settings
) -> None:
    strict = settings.model_copy(update={"login_account_max_failures_per_hour": 6, "login_slow_seconds": 2})
    with session_factory() as s:
        from tests.factories import build_world

        w = build_world(s)
        victim = make_user(s, unit=w.units["station_a1"], roles=["station_staff"])
        s.commit()
        name = victim.username
    assert attempt(session_factory, strict, name, PASSWORD, "198.51.100.1") == "ok"  # the owner's usual PC
    guesses = [attempt(session_factory, strict, name, f"guess{i}", f"192.0.2.{i}") for i in range(1, 12)]
    # Every address is fresh, yet the account takes no more than its hourly number of guesses ...
    assert guesses.count("wrong") == 6
    assert set(guesses[6:]) == {"limited"}
    # ... and then one every `login_slow_seconds` from clients not known to be the owner's.
    assert attempt(session_factory, strict, name, PASSWORD, "192.0.2.200") == "limited"
    # The owner, from an address that signed in before and has not been failing, gets in at once;
    assert attempt(session_factory, strict, name, PASSWORD, "198.51.100.1") == "ok"
    # from a new address, after a short wait (not an hour, not for good).
    time.sleep(2.2)
    assert attempt(session_factory, strict, name, PASSWORD, "192.0.2.201") == "ok"
    # Five wrong passwords from one address do not lock the owner out of another.
    other = settings.model_copy(update={"login_account_max_failures_per_hour": 100})
    for _ in range(other.login_max_failures):
        attempt(session_factory, other, name, "wrong", "192.0.2.250")
    assert attempt(session_factory, other, name, "wrong", "192.0.2.250") == "limited"
    assert attempt(session_factory, other, name, PASSWORD, "198.51.100.2") == "ok"


def test_an_admin_can_clear_an_accounts_failures(
    client: httpx.Client, world: World, session_factory: sessionmaker[Session], settings: Settings
) -> None:
    target = world.users["staff_b1"]
    for _ in range(settings.login_max_failures):
        attempt(session_factory, settings, target.username, "wrong", "203.0.113.50")
    assert attempt(session_factory, settings, target.username, PASSWORD, "203.0.113.50") == "limited"
    admin = login(client, world.users["admin"].username, PASSWORD)
    station = login(client, world.users["staff_a1"].username, PASSWORD)
    assert client.post(f"/api/v1/users/{target.id}/unlock", headers=station).status_code == 403
    cleared = client.post(f"/api/v1/users/{target.id}/unlock", headers=admin)
    assert cleared.status_code == 200
    assert cleared.json()["cleared"] == settings.login_max_failures
    assert attempt(session_factory, settings, target.username, PASSWORD, "203.0.113.50") == "ok"


def test_failed_sign_ins_are_audited(
    client: httpx.Client, world: World, session_factory: sessionmaker[Session]
) -> None:
    username = world.users["dispatcher_a"].username
    assert (
        client.post("/api/v1/auth/token", data={"username": username, "password": "nope"}).status_code == 401
    )
    with session_factory() as s:
        entry = s.scalars(
            select(AuditEntry)
            .where(
                AuditEntry.action == "login_failed",
                AuditEntry.entity_id == str(world.users["dispatcher_a"].id),
            )
            .order_by(AuditEntry.id.desc())
        ).first()
    assert entry is not None
    assert entry.detail is not None
    assert entry.detail["username"] == username
    assert "nope" not in str(entry.detail)


def test_signing_out_ends_the_token_and_the_cookie(client: httpx.Client, world: World, base_url: str) -> None:
    headers = login(client, world.users["agent"].username, PASSWORD)
    assert client.get("/api/v1/auth/me", headers=headers).status_code == 200
    assert client.post("/api/v1/auth/logout", headers=headers).status_code == 204
    gone = client.get("/api/v1/auth/me", headers=headers)
    assert gone.status_code == 401
    assert gone.json()["error"]["message"] == "登录已失效，请重新登录"

    with httpx.Client(base_url=base_url, timeout=30) as browser:
        assert web_login(browser, world.users["agent"].username, PASSWORD).status_code == 303
        cookie = browser.cookies.get("gridcare_session")
        page = browser.get("/workbench")
        token = page.text.split('name="_csrf" value="')[1].split('"')[0]
        assert browser.post("/logout", data={"_csrf": token}).status_code == 303
    with httpx.Client(base_url=base_url, timeout=30, cookies={"gridcare_session": cookie or ""}) as replay:
        again = replay.get("/workbench")
        assert again.status_code == 303  # the old cookie signs nobody in: back to the sign-in page
        assert again.headers["location"].startswith("/login")


def test_the_sign_in_form_needs_its_csrf_token(client: httpx.Client, world: World) -> None:
    forged = client.post(
        "/login", data={"username": world.users["agent"].username, "password": PASSWORD, "next": "/workbench"}
    )
    assert forged.status_code == 303
    assert "gridcare_session" not in forged.cookies
    shown = client.get(forged.headers["location"])
    assert shown.status_code == 403
    assert "登录页面已过期" in shown.text


def test_a_weak_or_empty_secret_key_stops_the_start(tmp_path: Path) -> None:
    for key in ("", "short-key"):
        env = {
            **os.environ,
            "GRIDCARE_SECRET_KEY": key,
            "GRIDCARE_DATABASE_URL": f"sqlite:///{tmp_path}/x.db",
        }
        done = subprocess.run(
            [sys.executable, "-m", "gridcare.cli", "serve", "--port", "1"],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
            cwd=tmp_path,
        )
        assert done.returncode == 1
        assert "GRIDCARE_SECRET_KEY 至少需要 32 个字符" in done.stderr
        assert "Traceback" not in done.stderr
    with pytest.raises(ValueError, match="至少需要 32 个字符"):
        Settings(secret_key="")


def test_forwarded_addresses_are_believed_only_from_configured_proxies(
    world: World, settings: Settings, session_factory: sessionmaker[Session]
) -> None:
    username = world.users["auditor"].username
    for proxies, expected in (("", "127.0.0.1"), ("127.0.0.1", "198.51.100.99")):
        with (
            serving(settings.model_copy(update={"trusted_proxies": proxies})) as base,
            httpx.Client(base_url=base) as c,
        ):
            c.post(
                "/api/v1/auth/token",
                data={"username": username, "password": "x"},
                headers={"X-Forwarded-For": "198.51.100.99"},
            )
        with session_factory() as s:
            seen = s.scalar(
                select(LoginAttempt.client_ip)
                .where(LoginAttempt.username == username)
                .order_by(LoginAttempt.id.desc())
                .limit(1)
            )
        assert seen == expected, proxies

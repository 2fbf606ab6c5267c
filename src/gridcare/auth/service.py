"""Signing in and out, and turning a token back into a Principal.

Sign-in limits (README, Security), all counted in the database so every worker shares them:

- per account and address: `login_max_failures` wrong passwords within `login_window_seconds`;
- per address, all accounts together: `login_address_max_failures` within the window;
- per account, all addresses together: `login_account_max_failures_per_hour` in the last hour.
  Over it, *trusted* clients are still heard as usual — an address the user signed in from within
  `login_trusted_days`, or a browser holding the device mark it got at such a sign-in — and every
  other client is heard one at a time, once per `login_slow_seconds` for the account. Guessing from
  ever new addresses is bounded (the hourly limit plus one a minute), nobody's failures lock the owner
  out of a trusted device or address, and from a new one the owner is slowed, not refused for good.
  An administrator can clear an account's failures (`clear_failures`).

Each password evaluation is recorded as an attempt (outcome "pending") and committed *before* it runs,
then counted with every other attempt: of many concurrent guesses no more than the limit are evaluated.
A success removes only the failures of that account at that address.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, CursorResult, bindparam, delete, func, select, update
from sqlalchemy.orm import Session, sessionmaker

from gridcare.audit.service import record
from gridcare.auth.passwords import verify_password
from gridcare.auth.principal import Principal
from gridcare.config import Settings
from gridcare.db import transaction
from gridcare.errors import AuthenticationFailed, NotFound, TooManyAttempts
from gridcare.models import LoginAttempt, Unit, User, UserRole, UserSession
from gridcare.models.enums import Role
from gridcare.models.types import utcnow

HOUR = timedelta(hours=1)
COUNTED = ("pending", "failed")
USERNAME_MAX = 64


@dataclass(frozen=True)
class SignedIn:
    user: User
    session_id: str


def _count(session: Session, *conditions: ColumnElement[bool]) -> int:
    return session.scalar(select(func.count()).where(LoginAttempt.outcome.in_(COUNTED), *conditions)) or 0


def _trusted(
    session: Session, *, username: str, client_ip: str | None, device_user_id: int | None, since: datetime
) -> bool:
    if device_user_id is not None:
        owner = session.scalar(select(User.id).where(User.username == username))
        if owner == device_user_id:
            return True
    if client_ip is None:
        return False
    return (
        session.scalar(
            select(LoginAttempt.id)
            .where(
                LoginAttempt.username == username,
                LoginAttempt.at >= since,
                LoginAttempt.client_ip == client_ip,
                LoginAttempt.outcome == "success",
            )
            .limit(1)
        )
        is not None
    )


def _check_limits(
    session: Session,
    *,
    username: str,
    client_ip: str | None,
    device_user_id: int | None,
    settings: Settings,
    now: datetime,
    unrecorded: int,
) -> None:
    """Refuse (429) when a limit is reached. `unrecorded`: 1 when the attempt being made is not yet
    on record (it counts all the same), 0 once it is."""
    window = timedelta(seconds=settings.login_window_seconds)
    minutes = max(settings.login_window_seconds // 60, 1)
    if client_ip is not None:
        pair = unrecorded + _count(
            session,
            LoginAttempt.username == username,
            LoginAttempt.at >= now - window,
            LoginAttempt.client_ip == client_ip,
        )
        if pair > settings.login_max_failures:
            raise TooManyAttempts(
                f"登录失败次数过多，请 {minutes} 分钟后再试", retry_after=settings.login_window_seconds
            )
        address = unrecorded + _count(
            session, LoginAttempt.client_ip == client_ip, LoginAttempt.at >= now - window
        )
        if address > settings.login_address_max_failures:
            raise TooManyAttempts(
                f"本机登录失败次数过多，请 {minutes} 分钟后再试", retry_after=settings.login_window_seconds
            )
    else:  # no address known: the account's window limit is the only per-client bound
        pair = unrecorded + _count(
            session, LoginAttempt.username == username, LoginAttempt.at >= now - window
        )
        if pair > settings.login_max_failures:
            raise TooManyAttempts(
                f"登录失败次数过多，请 {minutes} 分钟后再试", retry_after=settings.login_window_seconds
            )
    account = unrecorded + _count(session, LoginAttempt.username == username, LoginAttempt.at >= now - HOUR)
    if account <= settings.login_account_max_failures_per_hour or _trusted(
        session,
        username=username,
        client_ip=client_ip,
        device_user_id=device_user_id,
        since=now - timedelta(days=settings.login_trusted_days),
    ):
        return
    # Over the hourly limit, from a client not known to be the owner's: one evaluation per account
    # and `login_slow_seconds`, whoever asks. Guesses stay bounded; the owner on a new device is
    # slowed, not shut out.
    slow = timedelta(seconds=settings.login_slow_seconds)
    recent = unrecorded + _count(session, LoginAttempt.username == username, LoginAttempt.at >= now - slow)
    if recent > 1:
        raise TooManyAttempts(
            f"该账号近一小时登录失败次数过多，从新的电脑或地址登录每 {settings.login_slow_seconds} 秒只能尝试一次，"
            "请稍后再试；在常用的电脑上登录不受此限，也可请系统管理员解除",
            retry_after=settings.login_slow_seconds,
        )


def sign_in(
    factory: sessionmaker[Session],
    *,
    username: str,
    password: str,
    client_ip: str | None,
    settings: Settings,
    kind: str,
    device_user_id: int | None = None,
) -> SignedIn:
    """The user and a new session if the password is right. Raises AuthenticationFailed (the failure
    recorded and audited) or TooManyAttempts. Runs its own short transactions: the attempt must be on
    record before the password is evaluated, whatever happens to the caller's transaction."""
    name = username.strip()[:USERNAME_MAX]
    now = utcnow()
    with transaction(factory) as s:
        _check_limits(
            s,
            username=name,
            client_ip=client_ip,
            device_user_id=device_user_id,
            settings=settings,
            now=now,
            unrecorded=1,
        )
        attempt = LoginAttempt(username=name, client_ip=client_ip, at=now, outcome="pending")
        s.add(attempt)
        s.flush()
        attempt_id = attempt.id
    try:
        with transaction(factory) as s:  # counted again, with every attempt recorded meanwhile
            _check_limits(
                s,
                username=name,
                client_ip=client_ip,
                device_user_id=device_user_id,
                settings=settings,
                now=now,
                unrecorded=0,
            )
    except TooManyAttempts:
        with transaction(factory) as s:  # refused before evaluation: not a guess
            s.execute(delete(LoginAttempt).where(LoginAttempt.id == attempt_id))
        raise
    with factory() as s:
        user = s.scalar(select(User).where(User.username == name))
        password_hash = user.password_hash if user is not None else None
        active = user is not None and user.is_active
    ok = verify_password(password_hash, password) and active
    with transaction(factory) as s:
        if not ok or user is None:
            s.execute(update(LoginAttempt).where(LoginAttempt.id == attempt_id).values(outcome="failed"))
            record(
                s,
                actor=None,
                action="login_failed",
                entity="user",
                entity_id=user.id if user is not None else None,
                detail={"username": name, "client_ip": client_ip},
            )
            failed = True
        else:
            s.execute(update(LoginAttempt).where(LoginAttempt.id == attempt_id).values(outcome="success"))
            s.execute(  # only evaluated failures: attempts still running are counted as they end
                delete(LoginAttempt).where(
                    LoginAttempt.username == name,
                    LoginAttempt.client_ip == client_ip,
                    LoginAttempt.outcome == "failed",
                )
            )
            session_id = secrets.token_urlsafe(32)
            s.add(
                UserSession(
                    id=session_id,
                    user_id=user.id,
                    kind=kind,
                    created_at=now,
                    expires_at=now + timedelta(minutes=settings.token_minutes),
                )
            )
            record(
                s,
                actor=principal_for(s, user.id),
                action="login",
                entity="user",
                entity_id=user.id,
                detail={"client_ip": client_ip, "kind": kind},
            )
            failed = False
    if failed:
        raise AuthenticationFailed("用户名或密码错误")
    assert user is not None
    return SignedIn(user=user, session_id=session_id)


def clear_failures(session: Session, *, principal: Principal, user_id: int) -> int:
    """An administrator lifts the sign-in limits of one account (after checking who is trying): its
    recorded failures are forgotten. Audited."""
    principal.require(Role.admin, action="解除登录限制")
    user = session.scalar(select(User).where(User.id == user_id, principal.in_scope(User.unit_id)))
    if user is None:
        raise NotFound(f"用户 {user_id} 不存在或不在您的权限范围内")
    result: CursorResult[Any] = session.execute(  # type: ignore[assignment]
        delete(LoginAttempt).where(LoginAttempt.username == user.username, LoginAttempt.outcome == "failed")
    )
    cleared = max(result.rowcount or 0, 0)
    record(
        session,
        actor=principal,
        action="clear_login_failures",
        entity="user",
        entity_id=user.id,
        detail={"cleared": cleared},
    )
    return cleared


def sign_out(session: Session, *, principal: Principal) -> None:
    """End the session the request came with: its token or cookie stops working at once."""
    if principal.session_id:
        session.execute(
            update(UserSession)
            .where(UserSession.id == principal.session_id, UserSession.revoked_at.is_(None))
            .values(revoked_at=utcnow())
        )
    record(session, actor=principal, action="logout", entity="user", entity_id=principal.user_id)


def purge(session: Session, *, settings: Settings, now: datetime | None = None) -> int:
    """Forget what no limit or trust rule reads any more: attempts older than the trust period,
    sessions ended more than a day ago. (A job: the worker runs it.)"""
    now = now or utcnow()
    old = now - timedelta(days=settings.login_trusted_days)
    gone = 0
    for statement in (
        delete(LoginAttempt).where(LoginAttempt.at < old),
        delete(UserSession).where(UserSession.expires_at < now - timedelta(days=1)),
    ):
        result: CursorResult[Any] = session.execute(statement)  # type: ignore[assignment]
        gone += max(result.rowcount or 0, 0)
    return gone


# Built once: every request reads its principal.
_PRINCIPAL = (
    select(
        User.id,
        User.username,
        User.display_name,
        User.unit_id,
        User.is_active,
        Unit.path,
        select(func.count()).where(Unit.parent_id.is_(None)).scalar_subquery(),
    )
    .join(Unit, Unit.id == User.unit_id)
    .where(User.id == bindparam("user"))
)
_PRINCIPAL_OF_SESSION = _PRINCIPAL.join(
    UserSession,
    (UserSession.id == bindparam("session"))
    & (UserSession.user_id == User.id)
    & UserSession.revoked_at.is_(None)
    & (UserSession.expires_at > bindparam("now")),
)
_ROLES = select(UserRole.role).where(UserRole.user_id == bindparam("user"))


def principal_for(session: Session, user_id: int, *, session_id: str | None = None) -> Principal:
    """The acting user. With `session_id` (every request), that session must be live: signed out or
    expired sessions are refused. Read as plain rows (every request pays for it): the user with their
    unit's path and whether the unit tree has one root, their roles, and — below the root — the units
    in their scope."""
    query = _PRINCIPAL if session_id is None else _PRINCIPAL_OF_SESSION
    row = session.execute(query, {"user": user_id, "session": session_id, "now": utcnow()}).first()
    if row is None:
        if session_id is not None:
            raise AuthenticationFailed("登录已失效，请重新登录")
        raise AuthenticationFailed("用户不存在或已停用")
    uid, username, display_name, unit_id, active, path, root_count = row
    if not active:
        raise AuthenticationFailed("用户不存在或已停用")
    roles = frozenset(session.scalars(_ROLES, {"user": uid}))
    at_root = path.count("/") == 2  # "/<id>/"
    covers_all = at_root and root_count == 1
    scope: tuple[int, ...] = ()
    if not covers_all:
        scope = tuple(session.scalars(select(Unit.id).where(Unit.path.startswith(path, autoescape=True))))
    return Principal(
        user_id=uid,
        username=username,
        unit_id=unit_id,
        unit_path=path,
        roles=roles,
        display_name=display_name,
        covers_all=covers_all,
        scope_unit_ids=scope,
        session_id=session_id,
    )

"""Login with rate limiting, and turning a token back into a Principal."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import delete, func, or_, select
from sqlalchemy.orm import Session

from gridcare.audit.service import record
from gridcare.auth.passwords import verify_password
from gridcare.auth.principal import Principal
from gridcare.config import Settings
from gridcare.errors import AuthenticationFailed, TooManyAttempts
from gridcare.models import LoginFailure, Unit, User
from gridcare.models.types import utcnow

# One address may try several usernames, but not without bound.
_IP_FACTOR = 4


def check_rate_limit(session: Session, *, username: str, client_ip: str | None, settings: Settings) -> None:
    since = utcnow() - timedelta(seconds=settings.login_window_seconds)
    by_user = session.scalar(
        select(func.count()).where(LoginFailure.username == username, LoginFailure.at >= since)
    )
    by_ip = 0
    if client_ip:
        by_ip = (
            session.scalar(
                select(func.count()).where(LoginFailure.client_ip == client_ip, LoginFailure.at >= since)
            )
            or 0
        )
    if (by_user or 0) >= settings.login_max_failures or by_ip >= settings.login_max_failures * _IP_FACTOR:
        raise TooManyAttempts(
            f"登录失败次数过多，请 {settings.login_window_seconds // 60} 分钟后再试",
            retry_after=settings.login_window_seconds,
        )


def authenticate(
    session: Session, *, username: str, password: str, client_ip: str | None, settings: Settings
) -> User | None:
    """The user if the password is right; otherwise None, with the failure recorded (caller commits)."""
    check_rate_limit(session, username=username, client_ip=client_ip, settings=settings)
    user = session.scalar(select(User).where(User.username == username))
    ok = verify_password(user.password_hash if user else None, password)
    if not ok or user is None or not user.is_active:
        session.add(LoginFailure(username=username, client_ip=client_ip))
        return None
    session.execute(
        delete(LoginFailure).where(
            or_(LoginFailure.username == username, LoginFailure.client_ip == client_ip)
        )
    )
    principal = principal_for(session, user.id)
    record(session, actor=principal, action="login", entity="user", entity_id=user.id)
    return user


def principal_for(session: Session, user_id: int) -> Principal:
    row = session.execute(
        select(User, Unit.path).join(Unit, Unit.id == User.unit_id).where(User.id == user_id)
    ).first()
    if row is None or not row[0].is_active:
        raise AuthenticationFailed("用户不存在或已停用")
    user, path = row
    at_root = path.count("/") == 2  # "/<id>/"
    covers_all = at_root and session.scalar(select(func.count()).where(Unit.parent_id.is_(None))) == 1
    scope: tuple[int, ...] = ()
    if not covers_all:
        scope = tuple(session.scalars(select(Unit.id).where(Unit.path.startswith(path, autoescape=True))))
    return Principal(
        user_id=user.id,
        username=user.username,
        unit_id=user.unit_id,
        unit_path=path,
        roles=frozenset(user.roles),
        display_name=user.display_name,
        covers_all=covers_all,
        scope_unit_ids=scope,
    )

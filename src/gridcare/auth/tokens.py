"""Signed bearer tokens (JWT, HS256) naming a stored session, and the signed device mark a browser
keeps after a successful sign-in (it lets that browser in while its account is under attack)."""

from __future__ import annotations

import hashlib
import hmac
import time
from datetime import timedelta

import jwt

from gridcare.errors import AuthenticationFailed
from gridcare.models.types import utcnow

_ALGORITHM = "HS256"


def issue_token(*, user_id: int, session_id: str, secret: str, minutes: int) -> str:
    now = utcnow()
    claims = {"sub": str(user_id), "sid": session_id, "iat": now, "exp": now + timedelta(minutes=minutes)}
    return jwt.encode(claims, secret, algorithm=_ALGORITHM)


def read_token(token: str, *, secret: str) -> tuple[int, str]:
    """(user id, session id) of a valid, unexpired token."""
    try:
        claims = jwt.decode(
            token, secret, algorithms=[_ALGORITHM], options={"require": ["exp", "sub", "sid"]}
        )
        return int(claims["sub"]), str(claims["sid"])
    except jwt.ExpiredSignatureError as exc:
        raise AuthenticationFailed("登录已过期，请重新登录") from exc
    except (jwt.InvalidTokenError, ValueError) as exc:
        raise AuthenticationFailed("无效的访问令牌") from exc


def _sign(secret: str, text: str) -> str:
    return hmac.new(secret.encode(), text.encode(), hashlib.sha256).hexdigest()[:32]


def device_mark(*, user_id: int, secret: str, days: int) -> str:
    expires = int(time.time()) + days * 86400
    body = f"{user_id}.{expires}"
    return f"{body}.{_sign(secret, 'device:' + body)}"


def device_user(mark: str | None, *, secret: str) -> int | None:
    """The user a valid, unexpired device mark was issued to."""
    if not mark or mark.count(".") != 2:
        return None
    user, expires, signature = mark.split(".")
    if not hmac.compare_digest(signature, _sign(secret, f"device:{user}.{expires}")):
        return None
    if not (user.isdigit() and expires.isdigit()) or int(expires) < time.time():
        return None
    return int(user)

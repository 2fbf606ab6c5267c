"""Signed bearer tokens (JWT, HS256)."""

from __future__ import annotations

from datetime import timedelta

import jwt

from gridcare.errors import AuthenticationFailed
from gridcare.models.types import utcnow

_ALGORITHM = "HS256"


def issue_token(*, user_id: int, secret: str, minutes: int) -> str:
    now = utcnow()
    claims = {"sub": str(user_id), "iat": now, "exp": now + timedelta(minutes=minutes)}
    return jwt.encode(claims, secret, algorithm=_ALGORITHM)


def read_token(token: str, *, secret: str) -> int:
    try:
        claims = jwt.decode(token, secret, algorithms=[_ALGORITHM], options={"require": ["exp", "sub"]})
        return int(claims["sub"])
    except jwt.ExpiredSignatureError as exc:
        raise AuthenticationFailed("登录已过期，请重新登录") from exc
    except (jwt.InvalidTokenError, ValueError) as exc:
        raise AuthenticationFailed("无效的访问令牌") from exc

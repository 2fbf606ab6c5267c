"""POST /api/v1/auth/token (OAuth2 password form) and GET /api/v1/auth/me."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.security import OAuth2PasswordRequestForm
from pydantic import BaseModel

from gridcare.auth.service import authenticate
from gridcare.auth.tokens import issue_token
from gridcare.errors import AuthenticationFailed
from gridcare.http import PrincipalDep, SessionDep, SettingsDep

router = APIRouter(prefix="/api/v1/auth", tags=["auth 认证"])


class Token(BaseModel):
    access_token: str
    token_type: str = "bearer"  # noqa: S105 - the OAuth2 token type, not a secret
    expires_in: int


class Me(BaseModel):
    id: int
    username: str
    unit_id: int
    roles: list[str]


@router.post("/token", response_model=Token, summary="登录，获取访问令牌")
def login(
    request: Request,
    form: Annotated[OAuth2PasswordRequestForm, Depends()],
    session: SessionDep,
    settings: SettingsDep,
) -> Token:
    client_ip = request.client.host if request.client else None
    user = authenticate(
        session, username=form.username, password=form.password, client_ip=client_ip, settings=settings
    )
    if user is None:
        session.commit()  # keep the failure on record for rate limiting
        raise AuthenticationFailed("用户名或密码错误")
    token = issue_token(
        user_id=user.id, secret=settings.resolved_secret_key(), minutes=settings.token_minutes
    )
    return Token(access_token=token, expires_in=settings.token_minutes * 60)


@router.get("/me", response_model=Me, summary="当前用户")
def me(principal: PrincipalDep) -> Me:
    return Me(
        id=principal.user_id,
        username=principal.username,
        unit_id=principal.unit_id,
        roles=sorted(principal.roles),
    )

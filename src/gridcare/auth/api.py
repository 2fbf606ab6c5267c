"""POST /api/v1/auth/token (OAuth2 password form), POST /api/v1/auth/logout and GET /api/v1/auth/me."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response
from fastapi.security import OAuth2PasswordRequestForm
from pydantic import BaseModel

from gridcare.apidocs import ERROR_RESPONSES
from gridcare.auth.http import FactoryDep, PrincipalDep, SessionDep, SettingsDep, client_address
from gridcare.auth.service import sign_in, sign_out
from gridcare.auth.tokens import issue_token

router = APIRouter(prefix="/api/v1/auth", tags=["auth 认证"], responses=ERROR_RESPONSES)


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
    factory: FactoryDep,
    settings: SettingsDep,
) -> Token:
    """A token for the session this sign-in opens; wrong passwords are limited per account, address
    and hour (see README, Security)."""
    signed = sign_in(
        factory,
        username=form.username,
        password=form.password,
        client_ip=client_address(request),
        settings=settings,
        kind="api",
    )
    token = issue_token(
        user_id=signed.user.id,
        session_id=signed.session_id,
        secret=settings.resolved_secret_key(),
        minutes=settings.token_minutes,
    )
    return Token(access_token=token, expires_in=settings.token_minutes * 60)


@router.post("/logout", status_code=204, summary="退出登录（令牌立即失效）")
def logout(session: SessionDep, principal: PrincipalDep) -> Response:
    sign_out(session, principal=principal)
    return Response(status_code=204)


@router.get("/me", response_model=Me, summary="当前用户")
def me(principal: PrincipalDep) -> Me:
    return Me(
        id=principal.user_id,
        username=principal.username,
        unit_id=principal.unit_id,
        roles=sorted(principal.roles),
    )

"""What every route needs: a session per request (committed at the end), the acting user (with their
session still live, within their request rate) and the client's address."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import OAuth2PasswordBearer
from sqlalchemy.orm import Session, sessionmaker

from gridcare.auth.principal import Principal
from gridcare.auth.service import principal_for
from gridcare.auth.tokens import read_token
from gridcare.config import Settings
from gridcare.db import transaction
from gridcare.errors import AuthenticationFailed
from gridcare.ratelimit import RateLimiter

oauth2_scheme = OAuth2PasswordBearer(tokenUrl="/api/v1/auth/token", auto_error=False)


# Dependencies that only read the application's state are coroutines: FastAPI runs a plain function
# dependency in the thread pool, a hop that costs more than the read.
async def get_settings_dep(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def get_session(request: Request) -> Iterator[Session]:
    with transaction(request.app.state.session_factory) as session:
        yield session


async def session_factory(request: Request) -> sessionmaker[Session]:
    factory: sessionmaker[Session] = request.app.state.session_factory
    return factory


# scope="function": commit before the response is sent, so a client that has its answer finds the change
# stored (the default scope would commit after the response, and a quick next request could miss it).
SessionDep = Annotated[Session, Depends(get_session, scope="function")]
SettingsDep = Annotated[Settings, Depends(get_settings_dep)]
FactoryDep = Annotated[sessionmaker[Session], Depends(session_factory)]


def client_address(request: Request) -> str | None:
    """The client's address: the TCP peer, or what a trusted proxy says (uvicorn's proxy headers are
    on only for GRIDCARE_TRUSTED_PROXIES)."""
    return request.client.host if request.client else None


def limit_rate(request: Request, principal: Principal) -> None:
    limiter: RateLimiter = request.app.state.rate_limiter
    limiter.hit(principal.user_id)


def authenticated(request: Request, session: Session, token: str, settings: Settings) -> Principal:
    """The principal of a token (API bearer or page cookie) whose session is still live."""
    user_id, session_id = read_token(token, secret=settings.resolved_secret_key())
    principal = principal_for(session, user_id, session_id=session_id)
    limit_rate(request, principal)
    return principal


def current_principal(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    token: Annotated[str | None, Depends(oauth2_scheme)],
) -> Principal:
    if not token:
        raise AuthenticationFailed("请先登录（缺少访问令牌）")
    return authenticated(request, session, token, settings)


PrincipalDep = Annotated[Principal, Depends(current_principal)]

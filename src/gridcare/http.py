"""What every route needs: a session per request (committed at the end) and the acting user."""

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
from gridcare.errors import AuthenticationFailed

oauth2_scheme = OAuth2PasswordBearer(tokenUrl="/api/v1/auth/token", auto_error=False)


def get_settings_dep(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def get_session(request: Request) -> Iterator[Session]:
    factory: sessionmaker[Session] = request.app.state.session_factory
    session = factory()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


# scope="function": commit before the response is sent, so a client that has its answer finds the change
# stored (the default scope would commit after the response, and a quick next request could miss it).
SessionDep = Annotated[Session, Depends(get_session, scope="function")]
SettingsDep = Annotated[Settings, Depends(get_settings_dep)]


def current_principal(
    session: SessionDep, settings: SettingsDep, token: Annotated[str | None, Depends(oauth2_scheme)]
) -> Principal:
    if not token:
        raise AuthenticationFailed("请先登录（缺少访问令牌）")
    user_id = read_token(token, secret=settings.resolved_secret_key())
    return principal_for(session, user_id)


PrincipalDep = Annotated[Principal, Depends(current_principal)]

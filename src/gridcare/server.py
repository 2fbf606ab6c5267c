"""How `gridcare serve` (and the tests' server) run uvicorn: proxy headers only from configured
proxies, no uvicorn access log (GridCare's own leaves query strings out), GridCare's loggers at the
configured level."""

from __future__ import annotations

from typing import Any

from gridcare.config import Settings


def logging_config(level: str) -> dict[str, Any]:
    upper = level.upper()
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {
            "plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"},
        },
        "handlers": {
            "stderr": {"class": "logging.StreamHandler", "formatter": "plain", "stream": "ext://sys.stderr"},
        },
        "loggers": {
            "uvicorn": {"handlers": ["stderr"], "level": upper, "propagate": False},
            "uvicorn.error": {"level": upper},
            "uvicorn.access": {"handlers": [], "level": "CRITICAL", "propagate": False},
            "gridcare": {"handlers": ["stderr"], "level": upper, "propagate": False},
            "sqlalchemy": {"handlers": ["stderr"], "level": "WARNING", "propagate": False},
        },
    }


def uvicorn_options(settings: Settings) -> dict[str, Any]:
    proxies = settings.proxies()
    return {
        "proxy_headers": bool(proxies),
        "forwarded_allow_ips": ",".join(proxies) if proxies else "",
        "server_header": False,
        "access_log": False,
        "log_config": logging_config(settings.log_level),
        "log_level": settings.log_level,
    }

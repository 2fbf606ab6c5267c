"""ASGI entry point for servers: `uvicorn gridcare.asgi:app` (settings from the environment).

`gridcare serve` is the supported way to run it: it also sets uvicorn's proxy-header trust from
GRIDCARE_TRUSTED_PROXIES (uvicorn alone believes X-Forwarded-For from 127.0.0.1). Run uvicorn by hand
only with `--no-proxy-headers` (or `--forwarded-allow-ips` set to your proxies)."""

from gridcare.app import create_app

app = create_app()

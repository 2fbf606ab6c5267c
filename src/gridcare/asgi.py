"""ASGI entry point for servers: `uvicorn gridcare.asgi:app` (settings from the environment)."""

from gridcare.app import create_app

app = create_app()

"""ASGI entry point for uvicorn (`etender serve`) and for deployments behind a process manager."""

from web.app import create_app

app = create_app()

"""ASGI entry point for uvicorn (`etender serve`, each of its --workers processes) and for deployments behind
a process manager. Logging is configured here, in the process that serves (uvicorn's worker processes do not
inherit the parent's configuration)."""

from core import logs
from core.settings import load_settings
from web.app import create_app

settings = load_settings()
logs.configure(settings.log_format, settings.log_level)
app = create_app(settings)

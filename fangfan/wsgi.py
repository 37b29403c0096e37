"""The WSGI entry for production: `gunicorn -w 4 'fangfan.wsgi:app'` (settings from the
environment, as for every `fangfan` command)."""

from fangfan.app import create_app
from fangfan.services import build

app = create_app(build())

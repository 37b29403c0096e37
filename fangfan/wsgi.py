"""The WSGI entry for production: `gunicorn -w 4 'fangfan.wsgi:app'` (settings from the
environment, as for every `fangfan` command). A setting production refuses (fangfan.production)
stops gunicorn with that one line and a non-zero exit, instead of a worker that boots and
fails over and over."""

from gunicorn.errors import AppImportError

from fangfan import logs
from fangfan.app import create_app
from fangfan.config import ConfigError
from fangfan.services import build

logs.configure()
try:
    app = create_app(build())
except ConfigError as err:
    raise AppImportError(str(err)) from None

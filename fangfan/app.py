"""The Flask app factory: one blueprint per package, services passed in, nothing at import."""

from __future__ import annotations

import datetime as dt

from flask import Flask
from flask.sessions import SecureCookieSessionInterface
from flask_wtf.csrf import CSRFProtect
from itsdangerous import URLSafeTimedSerializer

from approvals.web import bp as approvals_bp
from bot.webhook import bp as wechat_bp
from fangfan.services import Services


class CookieSessions(SecureCookieSessionInterface):
    """Flask's signed-cookie sessions, with the signing serializer built once per key instead
    of on every request (every WeChat message paid for it, and never carries a cookie)."""

    def __init__(self) -> None:
        self._serializers: dict[tuple[object, ...], URLSafeTimedSerializer | None] = {}

    def get_signing_serializer(self, app: Flask) -> URLSafeTimedSerializer | None:
        key = (app.secret_key, *(app.config["SECRET_KEY_FALLBACKS"] or ()))
        if key not in self._serializers:
            self._serializers[key] = super().get_signing_serializer(app)
        return self._serializers[key]


def create_app(services: Services) -> Flask:
    app = Flask(__name__)
    app.session_interface = CookieSessions()
    config = services.config
    app.config.update(
        JSON_AS_ASCII=False,
        SECRET_KEY=config.workbench.secret_key,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",  # the link in a WeChat message is a top-level visit
        SESSION_COOKIE_SECURE=config.notifications.base_url.startswith("https://"),
        # an idle sign-in ends: the cookie's signed timestamp, renewed by every request, is
        # refused by the server once older than this (approvals/web/session.py)
        PERMANENT_SESSION_LIFETIME=dt.timedelta(hours=config.workbench.session_idle_hours),
        SESSION_REFRESH_EACH_REQUEST=True,
        MAX_CONTENT_LENGTH=40 * 1024 * 1024,  # a few phone photos
        WTF_CSRF_TIME_LIMIT=None,  # a form left open between visits still submits
    )
    app.json.ensure_ascii = False  # type: ignore[attr-defined]
    app.extensions["fangfan"] = services
    csrf = CSRFProtect(app)
    app.register_blueprint(approvals_bp)
    app.register_blueprint(wechat_bp)
    csrf.exempt(wechat_bp)  # WeChat signs its callbacks; it cannot carry our token
    if config.dev_mode:
        from bot.simulator import bp as simulator_bp

        app.register_blueprint(simulator_bp)
        csrf.exempt(simulator_bp)  # a dev-only page posting to itself and the stand-in API
    return app

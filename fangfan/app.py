"""The Flask app factory: one blueprint per package, services passed in, nothing at import.

Every response carries the security headers (flask-talisman: a Content-Security-Policy with
per-request script nonces, no framing, nosniff, a Referrer-Policy; HSTS only behind https) and
`Cache-Control: no-store` unless it is a versioned asset. Input is bounded before any view
sees it (fangfan.inputs): ids in URLs and query or form integers fit the database's integer,
and a NUL byte anywhere is a 400 page.
"""

from __future__ import annotations

import datetime as dt

from flask import Flask, Response, request
from flask.sessions import SecureCookieSessionInterface
from flask_talisman import Talisman
from flask_wtf.csrf import CSRFProtect
from itsdangerous import URLSafeTimedSerializer
from werkzeug.middleware.proxy_fix import ProxyFix

from approvals import web as approvals_web
from bot import filling, reading
from bot.reading import Vocabulary
from bot.webhook import bp as wechat_bp
from fangfan import inputs
from fangfan.services import Services

# Scripts only from this site or with the response's nonce; styles may be inline (the pages'
# <style> blocks and style attributes; no script runs from them). data: for WeUI's icons.
CSP = {
    "default-src": "'self'",
    "script-src": "'self'",
    "style-src": "'self' 'unsafe-inline'",
    "img-src": "'self' data:",
    "object-src": "'none'",
    "base-uri": "'none'",
    "form-action": "'self'",
    "frame-ancestors": "'none'",
}
CACHEABLE = {"approvals.assets.asset"}  # versioned, public files; everything else is no-store


def _no_store(response: Response) -> Response:
    """Pages, exports and photos carry personal data: no browser or proxy keeps a copy."""
    if request.endpoint not in CACHEABLE:
        response.headers["Cache-Control"] = "no-store"
    return response


class PageHeaders(Talisman):
    """flask-talisman for the pages only. The webhook answers WeChat's servers, never a
    browser, with XML no browser renders; its hot path (every farmer's message) skips the
    nonce and the headers, which cost it a tenth of its throughput."""

    def _make_nonce(self) -> None:
        if request.blueprint != "wechat":
            super()._make_nonce()

    def _set_response_headers(self, response: Response) -> Response:
        if request.blueprint == "wechat":
            return response
        return super()._set_response_headers(response)


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
    # the pages' Context first: its upload bound (approvals.web.install) must be set before
    # anything reads a form (the NUL check below, the CSRF check)
    approvals_web.install(app, services)
    inputs.install(app)  # before the blueprints: their <int:...> rules use the bounded int
    config = services.config
    https = config.notifications.base_url.startswith("https://")
    app.config.update(
        JSON_AS_ASCII=False,
        SECRET_KEY=config.workbench.secret_key,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",  # the link in a WeChat message is a top-level visit
        SESSION_COOKIE_SECURE=https,
        # an idle sign-in ends: the cookie's signed timestamp, renewed by every request, is
        # refused by the server once older than this (approvals/web/session.py)
        PERMANENT_SESSION_LIFETIME=dt.timedelta(hours=config.workbench.session_idle_hours),
        SESSION_REFRESH_EACH_REQUEST=True,
        MAX_CONTENT_LENGTH=40 * 1024 * 1024,  # a few phone photos
        WTF_CSRF_TIME_LIMIT=None,  # a form left open between visits still submits
    )
    # Flask's default JSON provider has the setting; `app.json` is typed as any provider
    app.json.ensure_ascii = False  # type: ignore[attr-defined]
    # (the pages' Context, installed above, is the entry the bot's webhook reads too)
    csrf = CSRFProtect(app)
    # TLS ends at the proxy in front; redirecting here would loop, so only HSTS says "https"
    PageHeaders(app, force_https=False, strict_transport_security=https,
             session_cookie_secure=https, session_cookie_http_only=True,
             session_cookie_samesite="Lax", frame_options="DENY", content_security_policy=CSP,
             content_security_policy_nonce_in=["script-src"], referrer_policy="same-origin")
    app.after_request(_no_store)
    if hops := config.workbench.proxy_hops:  # only headers the proxies in front set
        # Flask's documented way to wrap the WSGI app; mypy sees a method being replaced
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops)  # type: ignore[method-assign]
    app.register_blueprint(approvals_web.bp)
    # the reader's libraries and tables loaded now, not on a farmer's first message
    reading.warm_up(Vocabulary(risk_types=config.risk_types, faq=filling.faq_entries(config)))
    app.register_blueprint(wechat_bp)
    csrf.exempt(wechat_bp)  # WeChat signs its callbacks; it cannot carry our token
    if config.dev_mode:
        from bot.simulator import bp as simulator_bp

        app.register_blueprint(simulator_bp)
        csrf.exempt(simulator_bp)  # a dev-only page posting to itself and the stand-in API
    return app

"""The Flask app factory: one blueprint per package, services passed in, nothing at import."""

from __future__ import annotations

from flask import Flask

from approvals.web import bp as approvals_bp
from bot.webhook import bp as wechat_bp
from fangfan.services import Services


def create_app(services: Services) -> Flask:
    app = Flask(__name__)
    app.config.update(JSON_AS_ASCII=False)
    app.json.ensure_ascii = False  # type: ignore[attr-defined]
    app.extensions["fangfan"] = services
    app.register_blueprint(approvals_bp)
    app.register_blueprint(wechat_bp)
    if services.config.dev_mode:
        from bot.simulator import bp as simulator_bp

        app.register_blueprint(simulator_bp)
    return app

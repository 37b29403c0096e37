"""Sign-in: WeChat's 网页授权 (snsapi_base → openid → the cadre bound to it), a one-time code
binding a cadre's WeChat the first time, and in dev_mode a list of the demo cadres.

Guessing binding codes is bounded twice: approvals/record/bindings.py counts wrong codes in the
database (per session, WeChat account and code, across every process), and POSTs to /bind
are capped per client address (`workbench.bind_rate_limit`) with `limits`, the rate-limiting
library under flask-limiter. flask-limiter itself is not used: it hooks every request of the
app, the WeChat webhook's included, to limit this one view."""

from __future__ import annotations

import datetime as dt
import secrets
from typing import Any

from flask import (
    Blueprint,
    abort,
    current_app,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask.blueprints import BlueprintSetupState
from limits import parse
from limits.storage import storage_from_string
from limits.strategies import MovingWindowRateLimiter, RateLimiter
from sqlalchemy import select

from approvals.context import Context
from approvals.record import bindings
from approvals.record.models import Cadre, Place
from approvals.web.session import (
    EXTENSION,
    now,
    safe_next,
    services,
    session_scope,
    sign_in,
    sign_out,
)

bp = Blueprint("signin", __name__)
_LIMITER = "fangfan.bind_limiter"  # where an app keeps its limiter of POST /bind


@bp.record_once
def _limiter(state: BlueprintSetupState) -> None:
    """One limiter per app, counting in the store `workbench.rate_limit_storage` names."""
    context: Context = state.app.extensions[EXTENSION]
    storage = context.config.workbench.rate_limit_storage
    state.app.extensions[_LIMITER] = MovingWindowRateLimiter(storage_from_string(storage))


def _too_fast() -> bool:
    """One more POST to /bind from this address; True if over `workbench.bind_rate_limit`."""
    limiter: RateLimiter = current_app.extensions[_LIMITER]
    rate = parse(services().config.workbench.bind_rate_limit)
    return not limiter.hit(rate, "bind", request.remote_addr or "")


@bp.get("/login")
def login() -> Any:
    target = request.args.get("next") or ""  # checked by safe_next after sign-in
    config = services().config
    if not config.dev_mode:
        state = secrets.token_urlsafe(16)
        session["oauth"] = {"state": state, "next": target}
        callback = url_for("approvals.signin.wechat_callback", _external=True)
        return redirect(services().oauth().authorize_url(callback, state))
    with session_scope() as s:
        cadres = s.execute(select(Cadre.id, Cadre.name, Cadre.role, Place.name.label("place"))
                           .join(Place).where(Cadre.active).order_by(Place.path, Cadre.id)).all()
    roles = {key: role.label for key, role in config.roles.items()}
    return render_template("signin.html", cadres=cadres, roles=roles, next=target)


@bp.post("/login/dev")
def login_dev() -> Any:
    if not services().config.dev_mode:
        abort(404)
    with session_scope() as s:
        cadre = s.get(Cadre, request.form.get("cadre_id", type=int) or 0)
        if cadre is None or not cadre.active:
            abort(404)
        sign_in(cadre.id, cadre.session_epoch)
    return redirect(safe_next(request.form.get("next")))


@bp.get("/login/wechat")
def wechat_callback() -> Any:
    pending = session.pop("oauth", None)
    if not pending or request.args.get("state") != pending["state"] or not request.args.get(
            "code"):
        return render_template("message.html", title="登录未完成",
                               text="登录链接已失效，请从微信消息里的链接重新打开。"), 400
    openid = services().oauth().openid(request.args["code"])
    if openid is None:
        return render_template("message.html", title="暂时无法登录",
                               text="微信登录服务暂时不可用，请稍后再试。"), 503
    with session_scope() as s:
        cadre = s.execute(select(Cadre.id, Cadre.session_epoch)
                          .where(Cadre.openid == openid, Cadre.active)).first()
    if cadre is None:
        # `attempt`: this sign-in's key for counting wrong codes (bindings.py)
        session["binding"] = {"openid": openid, "next": pending["next"],
                              "attempt": secrets.token_urlsafe(16)}
        return redirect(url_for("approvals.signin.bind"))
    sign_in(*cadre)
    return redirect(safe_next(pending["next"]))


@bp.route("/bind", methods=["GET", "POST"])
def bind() -> Any:
    pending = session.get("binding")
    if not pending:
        return redirect(url_for("approvals.signin.login"))
    if request.method == "GET":
        return render_template("bind.html", error=None)
    if _too_fast():
        return render_template("bind.html", error="提交过于频繁，请一分钟后再试。"), 429
    w = services().config.workbench
    limit = bindings.Limits(w.bind_max_failures, dt.timedelta(minutes=w.bind_lockout_minutes),
                             w.bind_code_max_failures)
    with session_scope() as s:  # a refusal's counts and audit rows are committed too
        bound = bindings.bind(
            s, request.form.get("code", ""), pending["openid"],
            session_key=pending.get("attempt") or pending["openid"], now=now(), limits=limit)
    if bound.cadre_id is None:
        return render_template("bind.html", error=bound.refusal), (
            429 if bound.locked_until else 400)
    sign_in(bound.cadre_id, bound.session_epoch)
    return redirect(safe_next(pending["next"]))


@bp.post("/logout")
def logout() -> Any:
    sign_out()
    return redirect(url_for("approvals.signin.login"))


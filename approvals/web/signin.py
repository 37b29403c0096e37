"""Sign-in: WeChat's 网页授权 (snsapi_base → openid → the cadre bound to it), a one-time code
binding a cadre's WeChat the first time, and in dev_mode a list of the demo cadres."""

from __future__ import annotations

import secrets
from typing import Any

from flask import Blueprint, abort, redirect, render_template, request, session, url_for
from sqlalchemy import select

from approvals import bindings
from approvals.db import session_scope
from approvals.models import Cadre, Place
from approvals.web.session import attempt, now, safe_next, services, sign_in

bp = Blueprint("signin", __name__)


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
        sign_in(cadre.id)
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
        cadre_id = s.scalar(select(Cadre.id).where(Cadre.openid == openid, Cadre.active))
    if cadre_id is None:
        session["binding"] = {"openid": openid, "next": pending["next"]}
        return redirect(url_for("approvals.signin.bind"))
    sign_in(cadre_id)
    return redirect(safe_next(pending["next"]))


@bp.route("/bind", methods=["GET", "POST"])
def bind() -> Any:
    pending = session.get("binding")
    if not pending:
        return redirect(url_for("approvals.signin.login"))
    if request.method == "GET":
        return render_template("bind.html", error=None)
    cadre_id = attempt(lambda s: bindings.bind(s, request.form.get("code", ""),
                                               pending["openid"], now=now()),
                       refused=lambda text: (render_template("bind.html", error=text), 400))
    sign_in(cadre_id)
    return redirect(safe_next(pending["next"]))


@bp.post("/logout")
def logout() -> Any:
    session.clear()
    return redirect(url_for("approvals.signin.login"))

"""Who is signed in: the cadre's id in the signed session cookie, the Actor per request."""

from __future__ import annotations

import functools
from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import Any, TypeVar
from urllib.parse import urlsplit

from flask import current_app, g, redirect, request, session, url_for
from sqlalchemy import Connection
from sqlalchemy.orm import Session

from approvals.calendar import local_date
from approvals.db import connection_scope, session_scope
from approvals.errors import AlreadyDecided, NotAllowed, NotFound, Refused
from approvals.permissions import Actor


def services() -> Any:
    return current_app.extensions["fangfan"]


def now() -> Any:
    return services().clock.now()


T = TypeVar("T")
H = TypeVar("H", Session, Connection)  # what a service runs on: a session, or a bare connection


class Answered(Exception):
    """A refusal already turned into the page the cadre sees (the app returns it as is)."""

    def __init__(self, response: Any) -> None:
        self.response = response


def attempt(action: Callable[[H], T], *, refused: Callable[[str], Any],
            already: Callable[[str], Any] | None = None,
            scope: Callable[[], AbstractContextManager[H]] = session_scope) -> T:
    """Run one service in its own transaction (or `scope`). A rule's refusal becomes
    `refused(sentence)` (the form again, answers kept); another cadre having acted first,
    `already(sentence)`; outside one's role or jurisdiction stays NotAllowed, the app's 403
    page, and a record that does not exist NotFound, its 404 page."""
    try:
        with scope() as s:
            return action(s)
    except AlreadyDecided as err:
        raise Answered((already or refused)(str(err))) from None
    except (NotAllowed, NotFound):
        raise
    except Refused as err:
        raise Answered(refused(str(err))) from None


def sign_in(cadre_id: int) -> None:
    session.clear()  # a new session id-less cookie: nothing of a previous visitor survives
    g.pop("actor", None)
    session["cadre_id"] = cadre_id
    session.permanent = True


def current_actor() -> Actor | None:
    if "actor" not in g:
        g.actor = None
        cadre_id = session.get("cadre_id")
        if cadre_id is not None:
            with connection_scope() as conn:
                try:
                    actor = Actor.signed_in(conn, int(cadre_id), local_date(now()))
                except NotFound:
                    actor = None
            if actor is not None and actor.active:
                g.actor = actor
            else:
                session.clear()
    return g.actor


def safe_next(target: str | None) -> str:
    """Only a path of this site: never send a cadre to another host after sign-in. With no
    target, a cadre's home: the dashboard for supervisors, the inbox for everyone else."""
    if not target or urlsplit(target).netloc or not target.startswith("/") \
            or target.startswith("//"):
        actor = current_actor()
        if actor is not None and actor.role == "supervisor":
            return url_for("approvals.dashboard.index")
        return url_for("approvals.inbox.index")
    return target


def signed_in(view: Callable[..., Any]) -> Callable[..., Any]:
    """The view needs a signed-in cadre; others go to sign-in and come back afterwards."""
    @functools.wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if current_actor() is None:
            return redirect(url_for("approvals.signin.login", next=request.full_path.rstrip("?")))
        return view(*args, **kwargs)
    return wrapper

"""Who is signed in: the cadre's id and session epoch in the signed session cookie, the Actor
per request.

The cookie is Flask's, signed with a timestamp that every request renews: one idle longer
than `workbench.session_idle_hours` fails the signature check and signs nobody in. It also
carries the cadre's session epoch, which must still be the cadre's: 退出 moves the epoch on,
so a copy of the cookie (on any device) signs nobody in afterwards."""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import Any, Concatenate, ParamSpec, TypeVar, overload
from urllib.parse import urlsplit

from flask import current_app, g, redirect, request, session, url_for
from sqlalchemy import Connection, update
from sqlalchemy.orm import Session
from werkzeug.wrappers import Response

from approvals.context import Context
from approvals.procedure import decisions
from approvals.procedure.decisions import TaskRef
from approvals.procedure.permissions import Actor
from approvals.record.calendar import local_date
from approvals.record.db import Database
from approvals.record.definitions import Level
from approvals.record.errors import AlreadyDecided, NotAllowed, NotFound, Refused
from approvals.record.models import Cadre

EXTENSION = "fangfan"  # where the app keeps the pages' Context (approvals.web.install)


def services() -> Context:
    """What the process gives the pages: clock, calendar, media store, OAuth, config."""
    context: Context = current_app.extensions[EXTENSION]
    return context


def now() -> dt.datetime:
    return services().clock.now()


def database() -> Database:
    return services().database


# The app's database's scopes (approvals.record.db.Database), as the pages open them.
def session_scope() -> AbstractContextManager[Session]:
    return database().session_scope()


def statement_scope() -> AbstractContextManager[Session]:
    return database().statement_scope()


def connection_scope() -> AbstractContextManager[Connection]:
    return database().connection_scope()


T = TypeVar("T")
P = ParamSpec("P")
R = TypeVar("R")
H = TypeVar("H", Session, Connection)  # what a service runs on: a session, or a bare connection


class Answered(Exception):
    """A refusal already turned into the page the cadre sees (the app returns it as is)."""

    def __init__(self, response: Any) -> None:
        self.response = response


@overload
def attempt(action: Callable[[Session], T], *, refused: Callable[[str], Any],
            already: Callable[[str], Any] | None = None) -> T: ...
@overload
def attempt(action: Callable[[H], T], *, refused: Callable[[str], Any],
            already: Callable[[str], Any] | None = None,
            scope: Callable[[], AbstractContextManager[H]]) -> T: ...
def attempt(action: Callable[[Any], T], *, refused: Callable[[str], Any],
            already: Callable[[str], Any] | None = None,
            scope: Callable[[], AbstractContextManager[Any]] = session_scope) -> T:
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


def sign_in(cadre_id: int, epoch: int) -> None:
    """Sign the cadre in with their current session epoch (`Cadre.session_epoch`)."""
    session.clear()  # a new session id-less cookie: nothing of a previous visitor survives
    g.pop("actor", None)
    session["cadre_id"], session["epoch"] = cadre_id, epoch
    session.permanent = True  # expires when idle: PERMANENT_SESSION_LIFETIME


def sign_out() -> None:
    """End this sign-in on the server: the cadre's session epoch moves on, so this cookie and
    every copy of it stop working. A cookie already ended changes nothing."""
    cadre_id, epoch = session.get("cadre_id"), _epoch()
    session.clear()
    g.pop("actor", None)
    if cadre_id is not None:
        with session_scope() as s:
            s.execute(update(Cadre).where(Cadre.id == int(cadre_id),
                                          Cadre.session_epoch == epoch)
                      .values(session_epoch=Cadre.session_epoch + 1))


def _epoch() -> int:
    """The cookie's session epoch; a cookie without one matches no cadre."""
    epoch = session.get("epoch")
    return epoch if isinstance(epoch, int) else -1


class SignedOut(Exception):
    """The cadre of this browser's sign-in is no longer there or no longer active."""


def current_actor() -> Actor | None:
    """The signed-in cadre, read once per request."""
    if "actor" not in g:
        g.actor = None
        cadre_id = session.get("cadre_id")
        if cadre_id is not None:
            with connection_scope() as conn:
                try:
                    actor = Actor.signed_in(conn, int(cadre_id), local_date(now()),
                                            _epoch())
                except NotFound:
                    actor = None
            _remember(actor)
    known: Actor | None = g.actor
    return known


def acting_on(conn: Connection, task_id: int) -> tuple[Actor, TaskRef]:
    """The signed-in cadre and the task they act on, read together on the decision's
    connection (a view under `signed_in_lazily`)."""
    actor, task = decisions.signed_in_at(conn, int(session["cadre_id"]), local_date(now()),
                                         task_id, _epoch())
    actor = _remember(actor)
    if actor is None:
        raise SignedOut
    if task is None:
        raise NotFound(decisions.NO_TASK)
    return actor, task


def _remember(actor: Actor | None) -> Actor | None:
    """The request's actor; a cadre no longer there or active is signed out."""
    g.actor = actor = actor if actor is not None and actor.active else None
    if actor is None:
        session.clear()
    return actor


def to_sign_in() -> Response:
    """To sign in, and back afterwards: to this page, or after a form to the page it was on."""
    back = (request.full_path.rstrip("?") if request.method == "GET"
            else urlsplit(request.referrer or "").path or None)
    return redirect(url_for("approvals.signin.login", next=back))


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


def signed_in(view: Callable[Concatenate[Actor, P], R]) -> Callable[P, R | Response]:
    """The view needs a signed-in cadre and is given them as its first argument; others go
    to sign in and come back afterwards."""

    @functools.wraps(view)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R | Response:
        actor = current_actor()
        if actor is None:
            return to_sign_in()
        return view(actor, *args, **kwargs)
    return wrapper


def signed_in_lazily(view: Callable[P, R]) -> Callable[P, R | Response]:
    """Only the sign-in cookie is checked here, and the view reads the cadre itself with what
    it acts on (`acting_on`); a cadre gone by then raises SignedOut, which sends them to sign
    in all the same. The decision POST does this: the cadre and the task in one statement,
    the write on the same pooled connection."""

    @functools.wraps(view)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R | Response:
        if session.get("cadre_id") is None:
            return to_sign_in()
        return view(*args, **kwargs)
    return wrapper


DESK_LEVELS = ("township", "county")


def at_desk(actor: Actor) -> Actor:
    """The signed-in cadre, if they work at a township's or the county's desk."""
    if actor.level not in DESK_LEVELS:
        levels = services().config.levels
        raise NotAllowed(f"台账导出和名单导入由{levels[Level.TOWNSHIP]}和"
                         f"{levels[Level.COUNTY]}级人员办理。")
    return actor


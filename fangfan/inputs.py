"""Input bounded before any view sees it, in one place for the whole app.

- `<int:...>` in a URL is ASCII digits within the database's integer (PostgreSQL `integer`):
  `/c/99999999999999999999` is a 404, not an overflow in the query;
- `request.args.get(..., type=int)` and the same on forms give the default for a value that is
  not a plain ASCII integer within that range (`?page=²`, `?place=1e99`, a 30-digit number);
- a NUL byte in the path, a query or form key or value is a 400 page (PostgreSQL refuses
  NUL in text, and no field of ours has a use for one).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from flask import Flask, Request, abort, request
from werkzeug.datastructures import ImmutableMultiDict
from werkzeug.routing import IntegerConverter

DB_INT_MAX = 2**31 - 1  # ids are `integer` on PostgreSQL
_PLAIN_INT = re.compile(r"-?[0-9]{1,10}")


def bounded_int(value: str) -> int:
    """A plain ASCII integer within the database's range, else ValueError."""
    if not isinstance(value, str) or not _PLAIN_INT.fullmatch(value.strip()):
        raise ValueError(value)
    number = int(value)
    if not -DB_INT_MAX <= number <= DB_INT_MAX:
        raise ValueError(value)
    return number


class DbInt(IntegerConverter):
    """Werkzeug's int converter, ASCII digits only and no larger than a database id."""

    regex = r"[0-9]{1,10}"
    part_isolating = True

    def __init__(self, map: Any, fixed_digits: int = 0, min: int = 0,
                 max: int | None = DB_INT_MAX, signed: bool = False) -> None:
        super().__init__(map, fixed_digits=fixed_digits, min=min, max=max, signed=signed)


class BoundedArgs(ImmutableMultiDict[str, str]):
    """Query and form values; `type=int` means a bounded int (see `bounded_int`)."""

    # one signature for werkzeug's overloaded get: the same arguments, `int` bounded
    def get(self, key: Any, default: Any = None,  # type: ignore[override]
            type: Callable[[str], Any] | None = None) -> Any:
        if type is None:
            return super().get(key, default)
        return super().get(key, default, bounded_int if type is int else type)

    def getlist(self, key: Any, type: Callable[[str], Any] | None = None) -> Any:
        if type is None:
            return super().getlist(key)
        return super().getlist(key, bounded_int if type is int else type)


class BoundedRequest(Request):
    parameter_storage_class = BoundedArgs


def _refuse_nul() -> None:
    if request.blueprint == "wechat":  # the webhook checks each field itself, strictly (bot/)
        return
    values = [request.path, *request.args.keys(), *request.args.values()]
    if request.mimetype in ("application/x-www-form-urlencoded", "multipart/form-data"):
        values += [*request.form.keys(), *request.form.values()]
    if any("\x00" in v for v in values):
        abort(400)


def install(app: Flask) -> None:
    """Call before registering blueprints (their rules take the converter when added)."""
    app.url_map.converters["int"] = DbInt
    app.request_class = BoundedRequest
    app.before_request(_refuse_nul)

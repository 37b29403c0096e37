"""The example files of the county's imports (roster, cadres, pairings), in the layout each
import expects: package data, offered for download on the import page."""

from __future__ import annotations

from collections.abc import Mapping
from importlib import resources

NAMES = ("roster.csv", "cadres.csv", "pairings.csv")


def read(name: str, named: Mapping[str, str] | None = None) -> bytes:
    """The example file `name`, one of NAMES, its header in this place's column names
    (`named`: a default name → this place's, as approvals.desk.imports.headers gives)."""
    if name not in NAMES:
        raise KeyError(name)
    data = resources.files(__name__).joinpath(name).read_bytes()
    if not named:
        return data
    bom = b"\xef\xbb\xbf" if data.startswith(b"\xef\xbb\xbf") else b""
    header, _, rest = data.removeprefix(bom).decode("utf-8").partition("\n")
    header = ",".join(named.get(c, c) for c in header.split(","))
    return bom + f"{header}\n{rest}".encode()

"""The example files of the county's imports (roster, cadres, pairings), in the layout each
import expects: package data, offered for download on the import page."""

from __future__ import annotations

from importlib import resources

NAMES = ("roster.csv", "cadres.csv", "pairings.csv")


def read(name: str) -> bytes:
    """The example file `name`, one of NAMES."""
    if name not in NAMES:
        raise KeyError(name)
    return resources.files(__name__).joinpath(name).read_bytes()

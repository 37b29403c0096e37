"""The demo's clock (dev_mode only): the system's time moved forward by an offset kept in one
file under var/, so the web app, the worker and the command line of `make run` all read the
same moment. A new user moves it (`fangfan dev clock +5d`, or the button on /dev/wechat) to
take a case through 公示 and its deadlines in minutes instead of days.

The offset is read from the file at every `now()`: a stat and a read, nothing for a laptop,
and no process has to be told when another moved it. Production never builds this clock
(`fangfan.services.build` wraps the clock only with dev_mode on).
"""

from __future__ import annotations

import datetime as dt
import os
import re
from dataclasses import dataclass
from pathlib import Path

from approvals.record.calendar import Clock

STEP = re.compile(r"\+(\d{1,4})([dhm])")
UNITS = {"d": "days", "h": "hours", "m": "minutes"}


def parse_step(text: str) -> dt.timedelta | None:
    """`+5d`, `+2h`, `+30m`; None for anything else (the clock never goes back, but `reset`)."""
    found = STEP.fullmatch(text.strip())
    if found is None:
        return None
    return dt.timedelta(**{UNITS[found.group(2)]: int(found.group(1))})


@dataclass(frozen=True)
class ShiftedClock:
    """`base` moved forward by the offset in `offset_file` (seconds; none: not moved)."""

    base: Clock
    offset_file: Path

    def offset(self) -> dt.timedelta:
        try:
            return dt.timedelta(seconds=float(self.offset_file.read_text().strip()))
        except (OSError, ValueError):
            return dt.timedelta()

    def now(self) -> dt.datetime:
        return self.base.now() + self.offset()

    def move(self, step: dt.timedelta) -> dt.datetime:
        """Forward by `step`, for every process at once; the new moment."""
        self._write(self.offset() + step)
        return self.now()

    def reset(self) -> dt.datetime:
        """Back to the system's time (records made meanwhile keep their moments)."""
        self.offset_file.unlink(missing_ok=True)
        return self.now()

    def _write(self, offset: dt.timedelta) -> None:
        # written aside and renamed: a process reading meanwhile sees the old or the new one
        self.offset_file.parent.mkdir(parents=True, exist_ok=True)
        part = self.offset_file.with_name(self.offset_file.name + ".part")
        part.write_text(f"{offset.total_seconds():.0f}\n")
        os.replace(part, self.offset_file)

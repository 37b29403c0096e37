"""Time as a dependency: an injectable clock and the Chinese working-day calendar.

Working days come from `chinese-calendar` (public holidays and adjusted working weekends).
For a year it does not know yet, weekends are rest days, plus the holidays and working
weekends that config.yaml adds, and a warning is logged once per year.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cached_property
from typing import Protocol, runtime_checkable
from zoneinfo import ZoneInfo

import chinese_calendar

from approvals.record.definitions import Deadline

log = logging.getLogger(__name__)

LOCAL = ZoneInfo("Asia/Shanghai")


@runtime_checkable  # Prefect checks a flow's parameters by type, a clock among them
class Clock(Protocol):
    def now(self) -> dt.datetime: ...


class SystemClock:
    def now(self) -> dt.datetime:
        return dt.datetime.now(dt.UTC)


@dataclass
class FixedClock:
    """A clock tests move by hand: `clock.advance(days=5)`."""

    current: dt.datetime

    def now(self) -> dt.datetime:
        return self.current

    def advance(self, **delta: float) -> dt.datetime:
        self.current += dt.timedelta(**delta)
        return self.current


def local_date(moment: dt.datetime) -> dt.date:
    return moment.astimezone(LOCAL).date()


def last_day(due_at: dt.datetime) -> dt.date:
    """The last day to act: a deadline passes at the local midnight after it."""
    return local_date(due_at - dt.timedelta(microseconds=1))


def shown_due(due_at: dt.datetime) -> str:
    """How every page, message, reminder and notice says a deadline: its last day, 12月7日
    (the chat, the inbox, the case page and the digest agree because they all call this).
    `due_at` itself is the midnight after that day, so its own date is one day later."""
    day = last_day(due_at)
    return f"{day.month}月{day.day}日"


def start_of_day(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(), LOCAL).astimezone(dt.UTC)


@dataclass
class WorkCalendar:
    """A calendar's value is its extra days; what it has worked out so far is kept beside
    them, not as fields, so two calendars with the same days are equal."""

    extra_holidays: frozenset[dt.date] = frozenset()
    extra_workdays: frozenset[dt.date] = frozenset()

    @cached_property
    def _known(self) -> dict[dt.date, bool]:
        """Answers remembered: chinese-calendar takes ~20 µs a day, and deadlines ask often."""
        return {}

    @cached_property
    def _warned(self) -> set[int]:
        """The years whose missing holidays were logged already."""
        return set()

    @classmethod
    def of(cls, holidays: Iterable[dt.date] = (), workdays: Iterable[dt.date] = ()) -> WorkCalendar:
        return cls(frozenset(holidays), frozenset(workdays))

    def is_workday(self, day: dt.date) -> bool:
        known = self._known.get(day)
        if known is None:
            known = self._known[day] = self._is_workday(day)
        return known

    def _is_workday(self, day: dt.date) -> bool:
        if day in self.extra_workdays:
            return True
        if day in self.extra_holidays:
            return False
        try:
            return bool(chinese_calendar.is_workday(day))  # the library is untyped
        except NotImplementedError:
            if day.year not in self._warned:
                self._warned.add(day.year)
                log.warning(
                    "chinese-calendar 没有%s年的节假日：只按周末计算，另加 config.yaml 的 "
                    "calendar.extra_holidays / extra_workdays。", day.year)
            return day.weekday() < 5

    def add(self, day: dt.date, deadline: Deadline) -> dt.date:
        """The day on which a deadline of `deadline` counted from `day` falls."""
        if deadline.unit == "calendar":
            return day + dt.timedelta(days=deadline.days)
        left = deadline.days
        while left:
            day += dt.timedelta(days=1)
            left -= self.is_workday(day)
        return day

    def due(self, start: dt.datetime, deadline: Deadline) -> dt.datetime:
        """The moment a deadline passes: the end (local midnight) of its last day."""
        last = self.add(local_date(start), deadline)
        return start_of_day(last + dt.timedelta(days=1))

    def working_days_left(self, due_at: dt.datetime, now: dt.datetime) -> int:
        """Working days until a deadline's last day; once it has passed, minus the working
        days late (at least one)."""
        day, today = last_day(due_at), local_date(now)
        if now < due_at:
            return self.working_days_between(today, day)
        return -max(1, self.working_days_between(day, today))

    def working_days_between(self, start: dt.date, end: dt.date) -> int:
        days, day = 0, start
        while day < end:
            day += dt.timedelta(days=1)
            days += self.is_workday(day)
        return days

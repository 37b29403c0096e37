"""When a farmer's message held by the quiet hours will go (notifications.dispatch.held_until),
and how the simulator says it (今晚/明早/明天)."""

from __future__ import annotations

import datetime as dt

import pytest

from approvals.record.calendar import LOCAL
from bot.simulator import said_when
from notifications.dispatch import held_until

NIGHT = (dt.time(22, 0), dt.time(7, 0))  # config.yaml's: across midnight
NOON = (dt.time(12, 0), dt.time(14, 0))  # within a day


def at(day: int, hour: int, minute: int = 0, second: int = 0) -> dt.datetime:
    """A moment of December 2026 in Beijing time, given in UTC as the outbox keeps it."""
    return dt.datetime(2026, 12, day, hour, minute, second, tzinfo=LOCAL).astimezone(dt.UTC)


@pytest.mark.parametrize(("moment", "until"), [
    (at(3, 21, 59, 59), None),  # the last second before the quiet hours
    (at(3, 22), at(4, 7)),  # their first second: held until the next morning
    (at(3, 23, 30), at(4, 7)),
    (at(3, 23, 59, 59), at(4, 7)),
    (at(4, 0), at(4, 7)),  # past midnight: the same morning
    (at(4, 6, 59, 59), at(4, 7)),
    (at(4, 7), None),  # their end: goes now
    (at(4, 12), None),
])
def test_held_until_the_end_of_quiet_hours_across_midnight(
        moment: dt.datetime, until: dt.datetime | None) -> None:
    assert held_until(moment, NIGHT) == until


def test_held_until_the_same_day_when_quiet_hours_do_not_cross_midnight() -> None:
    assert held_until(at(3, 11, 59), NOON) is None
    assert held_until(at(3, 12), NOON) == at(3, 14)
    assert held_until(at(3, 13, 59), NOON) == at(3, 14)
    assert held_until(at(3, 14), NOON) is None


def test_no_quiet_hours_hold_nothing() -> None:
    assert held_until(at(3, 23), None) is None
    assert held_until(at(3, 23), (dt.time(7, 0), dt.time(7, 0))) is None  # an empty span


def test_the_time_is_beijing_time_whatever_zone_it_is_given_in() -> None:
    # 15:00 UTC is 23:00 in Beijing
    until = held_until(dt.datetime(2026, 12, 3, 15, 0, tzinfo=dt.UTC), NIGHT)
    assert until is not None and until.astimezone(LOCAL).strftime("%m-%d %H:%M") == "12-04 07:00"


@pytest.mark.parametrize(("moment", "now", "said"), [
    (at(4, 7), at(3, 23), "明早7:00"),  # held in the evening
    (at(4, 7), at(4, 0, 30), "今早7:00"),  # held after midnight: the same morning
    (at(3, 22, 30), at(3, 21), "今晚22:30"),
    (at(4, 14, 5), at(3, 21), "明天14:05"),
    (at(4, 0, 30), at(3, 21), "明天凌晨0:30"),
    (at(4, 19), at(3, 21), "明晚19:00"),
    (at(6, 7), at(3, 21), "12月6日 7:00"),
])
def test_the_simulator_says_when_relative_to_now(moment: dt.datetime, now: dt.datetime,
                                                 said: str) -> None:
    assert said_when(moment, now) == said

"""Working days across holidays and adjusted weekends; ID checksums; masking; case numbers."""

from __future__ import annotations

import datetime as dt
import logging

import pytest

from approvals.record.calendar import LOCAL, WorkCalendar
from approvals.record.definitions import Deadline
from approvals.record.errors import Refused
from approvals.record.identity import mask_id, mask_phone, normalize_id_number
from approvals.record.models.cases import case_number


def test_working_days_skip_national_day_and_count_the_adjusted_saturday():
    cal = WorkCalendar()
    start = dt.datetime(2026, 9, 29, 10, 0, tzinfo=LOCAL)
    # 9-30, then the holiday 10-01..10-07, then 10-08, 10-09 and Saturday 10-10 (调休上班)
    assert cal.add(start.date(), Deadline(days=4, unit="working")) == dt.date(2026, 10, 10)
    due = cal.due(start, Deadline(days=4, unit="working"))
    assert due == dt.datetime(2026, 10, 11, tzinfo=LOCAL)
    assert cal.add(start.date(), Deadline(days=4, unit="calendar")) == dt.date(2026, 10, 3)


def test_a_year_chinese_calendar_does_not_know_falls_back_with_a_warning(caplog):
    cal = WorkCalendar.of(holidays=[dt.date(2027, 1, 1)], workdays=[dt.date(2027, 1, 9)])
    with caplog.at_level(logging.WARNING):
        assert cal.is_workday(dt.date(2027, 1, 4))  # a Monday
    assert "2027" in caplog.text
    assert not cal.is_workday(dt.date(2027, 1, 1))  # from config.yaml
    assert cal.is_workday(dt.date(2027, 1, 9))  # a Saturday made a working day in config
    assert not cal.is_workday(dt.date(2027, 1, 10))
    # a December case runs into the new year
    assert cal.add(dt.date(2026, 12, 30), Deadline(days=3, unit="working")) == dt.date(2027, 1, 5)


def test_id_numbers_are_checked_with_their_checksum():
    assert normalize_id_number(" 11010519491231002x ") == "11010519491231002X"
    for bad in ("110105194912310021", "1101051949123100", "11010519491331002X"):
        with pytest.raises(Refused, match="身份证号码不正确"):
            normalize_id_number(bad)


def test_personal_data_is_masked():
    assert mask_id("11010519491231002X") == "110105********002X"
    assert mask_phone("13812345678") == "138****5678"
    assert mask_phone(None) == ""


def test_a_case_opened_on_new_years_night_in_beijing_is_numbered_in_the_new_year():
    opened = dt.datetime(2026, 12, 31, 17, 30, tzinfo=dt.UTC)  # 2027-01-01 01:30 in Beijing
    assert case_number(33, opened) == "2027000033"
    assert case_number(33, opened - dt.timedelta(hours=8)) == "2026000033"

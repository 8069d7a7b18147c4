"""The service-hours clock: 5×8 on Chinese working days (holidays off, make-up days on), 7×24."""

import datetime as dt

import pytest

from cmdb.levels.hours import (
    CHINA, add_service_minutes, calendar_covers, clock, is_working_day, service_hours,
    service_minutes,
)

FIVE_BY_EIGHT = service_hours("5x8")
SEVEN_BY_24 = service_hours("7x24")


def cst(*args) -> dt.datetime:
    return dt.datetime(*args, tzinfo=CHINA)


def test_working_days_follow_the_chinese_calendar():
    assert {d: is_working_day(dt.date(2026, 9, d)) for d in (19, 20, 24, 25, 26, 27, 28)} == {
        19: False,  # Saturday
        20: True,   # Sunday, a make-up working day for National Day
        24: True, 25: False, 26: False, 27: False,  # Mid-autumn Festival and its weekend
        28: True}
    assert [is_working_day(dt.date(2026, 10, d)) for d in range(1, 11)] == [False] * 7 + [True] * 3


def test_years_without_holiday_data_count_weekdays():
    assert not calendar_covers(2099)
    assert is_working_day(dt.date(2099, 6, 1)) and not is_working_day(dt.date(2099, 6, 6))


def test_five_by_eight_skips_nights_weekends_and_holidays():
    # Thursday 16:30 before the Mid-autumn holiday to Monday 09:30: 30 + 30 minutes of service.
    assert service_minutes(FIVE_BY_EIGHT, cst(2026, 9, 24, 16, 30), cst(2026, 9, 28, 9, 30)) == 60
    assert add_service_minutes(FIVE_BY_EIGHT, cst(2026, 9, 24, 16, 30), 120) == cst(2026, 9, 28, 10, 30)
    # Reported at night: the clock starts at 09:00 the next working day (the make-up Sunday).
    assert add_service_minutes(FIVE_BY_EIGHT, cst(2026, 9, 19, 22, 0), 60) == cst(2026, 9, 20, 10, 0)
    # National Day week: from the last working day's close to the day after the holiday.
    assert service_minutes(FIVE_BY_EIGHT, cst(2026, 9, 30, 17, 0), cst(2026, 10, 8, 9, 0)) == 0


def test_seven_by_24_counts_every_minute_and_converts_zones():
    start = dt.datetime(2026, 9, 24, 8, 30, tzinfo=dt.timezone.utc)   # 16:30 in China
    assert service_minutes(SEVEN_BY_24, start, cst(2026, 9, 28, 9, 30)) == (3 * 24 + 17) * 60
    assert add_service_minutes(SEVEN_BY_24, start, 90) == cst(2026, 9, 24, 18, 0)


def test_clock_states():
    start = cst(2026, 9, 28, 9, 0)
    states = {minutes: clock(FIVE_BY_EIGHT, 100, start, None, start + dt.timedelta(minutes=minutes)).state
              for minutes in (0, 79, 80, 100, 101)}
    assert states == {0: "within", 79: "within", 80: "at_risk", 100: "at_risk", 101: "breached"}
    stopped = clock(FIVE_BY_EIGHT, 100, start, start + dt.timedelta(minutes=90), cst(2026, 12, 1, 0, 0))
    assert (stopped.state, stopped.elapsed_minutes) == ("met", 90)
    late = clock(FIVE_BY_EIGHT, 100, start, start + dt.timedelta(minutes=120), start)
    assert late.state == "breached"
    assert clock(FIVE_BY_EIGHT, None, start, None, start).state == "no_target"


def test_naive_times_are_refused():
    with pytest.raises(ValueError, match="time zone"):
        service_minutes(FIVE_BY_EIGHT, dt.datetime(2026, 9, 28, 9), cst(2026, 9, 28, 10))

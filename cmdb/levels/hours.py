"""Service hours and the clocks measured in them: 5×8 (working days, 09:00–17:00) or 7×24.

Working days follow the mainland Chinese calendar (package ``chinese-calendar``): weekends
and public holidays are off, the make-up working days (调休) that fall on a weekend are on.
For a year the package has no data for yet, Monday to Friday are the working days.

Pure functions of their arguments: no I/O, no reading of the current time. Every time is
an aware ``datetime``; service days are counted in China Standard Time (UTC+8, no daylight
saving), whatever zone a time comes in.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from functools import lru_cache

import chinese_calendar

CHINA = dt.timezone(dt.timedelta(hours=8), "CST")
AT_RISK_SHARE = 0.8
# A due time further away than this many days of service is not looked for.
_MAX_DAYS = 3 * 366


@dataclass(frozen=True)
class ServiceHours:
    code: str            # "5x8", "7x24"
    working_days_only: bool
    day_start: dt.time
    day_end: dt.time     # dt.time.max: to the end of the day

    def minutes_per_day(self) -> int:
        if self.day_end == dt.time.max:
            return 24 * 60 - (self.day_start.hour * 60 + self.day_start.minute)
        return (self.day_end.hour * 60 + self.day_end.minute) - (self.day_start.hour * 60 + self.day_start.minute)

    def window(self, day: dt.date) -> tuple[dt.datetime, dt.datetime] | None:
        """The service window on ``day`` (China time), or None on a day without service."""
        if self.working_days_only and not is_working_day(day):
            return None
        start = dt.datetime.combine(day, self.day_start, CHINA)
        end = (dt.datetime.combine(day + dt.timedelta(days=1), dt.time(0), CHINA)
               if self.day_end == dt.time.max else dt.datetime.combine(day, self.day_end, CHINA))
        return start, end


SERVICE_HOURS: dict[str, ServiceHours] = {
    h.code: h for h in (
        ServiceHours("5x8", True, dt.time(9, 0), dt.time(17, 0)),
        ServiceHours("7x24", False, dt.time(0, 0), dt.time.max),
    )
}


def service_hours(code: str) -> ServiceHours:
    try:
        return SERVICE_HOURS[code]
    except KeyError:
        raise ValueError(f"unknown service hours {code!r}; allowed: {', '.join(SERVICE_HOURS)}") \
            from None


@lru_cache(maxsize=None)   # a century of days is 36,525 entries
def is_working_day(day: dt.date) -> bool:
    if not calendar_covers(day.year):   # a year the calendar package has no holidays for yet
        return day.weekday() < 5
    return chinese_calendar.is_workday(day)


@lru_cache(maxsize=None)
def calendar_covers(year: int) -> bool:
    """Whether the public holidays of ``year`` are known (else weekends only are off)."""
    try:
        chinese_calendar.is_workday(dt.date(year, 6, 1))
        return True
    except NotImplementedError:
        return False


def _aware(value: dt.datetime) -> dt.datetime:
    if value.tzinfo is None:
        raise ValueError("service clocks need times with a time zone")
    return value


def service_minutes(hours: ServiceHours, start: dt.datetime, end: dt.datetime) -> float:
    """Minutes of service time between ``start`` and ``end`` (0 if end is not after start)."""
    start, end = _aware(start).astimezone(CHINA), _aware(end).astimezone(CHINA)
    if end <= start:
        return 0.0
    total = dt.timedelta()
    for day in {start.date(), end.date()}:   # the partial first and last days
        window = hours.window(day)
        if window:
            lo, hi = max(window[0], start), min(window[1], end)
            if hi > lo:
                total += hi - lo
    # The whole days between: a full window each day with service (no datetimes needed).
    full = hours.minutes_per_day()
    minutes = 0
    day = start.date() + dt.timedelta(days=1)
    while day < end.date():
        if not hours.working_days_only or is_working_day(day):
            minutes += full
        day += dt.timedelta(days=1)
    return total.total_seconds() / 60 + minutes


def add_service_minutes(hours: ServiceHours, start: dt.datetime, minutes: float) -> dt.datetime:
    """The moment ``minutes`` of service time after ``start`` have passed."""
    start = _aware(start).astimezone(CHINA)
    remaining = dt.timedelta(minutes=minutes)
    day = start.date()
    for _ in range(_MAX_DAYS):
        window = hours.window(day)
        if window:
            lo = max(window[0], start)
            if window[1] > lo:
                if lo + remaining <= window[1]:
                    return lo + remaining
                remaining -= window[1] - lo
        day += dt.timedelta(days=1)
    raise ValueError(f"no due time within {_MAX_DAYS} days of service")


@dataclass(frozen=True)
class Clock:
    """One service-level clock (response, arrival or resolution) at a moment."""
    target_minutes: float | None
    started_at: dt.datetime
    stopped_at: dt.datetime | None
    due_at: dt.datetime | None
    elapsed_minutes: float
    state: str   # "no_target", "within", "at_risk", "breached"; a stopped clock: "met" or "breached"

    @property
    def running(self) -> bool:
        return self.stopped_at is None

    def as_dict(self) -> dict:
        return {"target_minutes": self.target_minutes, "started_at": _iso(self.started_at),
                "stopped_at": _iso(self.stopped_at), "due_at": _iso(self.due_at),
                "elapsed_minutes": round(self.elapsed_minutes, 1), "state": self.state}


def _iso(value: dt.datetime | None) -> str | None:
    return None if value is None else value.astimezone(dt.timezone.utc).isoformat().replace(
        "+00:00", "Z")


def clock(hours: ServiceHours, target_minutes: float | None, started_at: dt.datetime,
          stopped_at: dt.datetime | None, now: dt.datetime) -> Clock:
    """The state of a clock started at ``started_at``, stopped at ``stopped_at`` (or still
    running at ``now``): within target, at risk (80 % of the target used), breached; a
    stopped clock was met or breached."""
    end = stopped_at if stopped_at is not None else now
    elapsed = service_minutes(hours, started_at, end)
    if target_minutes is None:
        return Clock(None, started_at, stopped_at, None, elapsed, "no_target")
    due = add_service_minutes(hours, started_at, target_minutes)
    if elapsed > target_minutes:
        state = "breached"
    elif stopped_at is not None:
        state = "met"
    elif elapsed >= AT_RISK_SHARE * target_minutes:
        state = "at_risk"
    else:
        state = "within"
    return Clock(target_minutes, started_at, stopped_at, due, elapsed, state)

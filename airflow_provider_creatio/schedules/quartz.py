"""Quartz cron expressions, converted exactly to the five-field cron that Airflow schedules, or refused.

Creatio's scheduler add-ons and other vendors' process schedulers (the scheduler API) describe a schedule with a Quartz
expression: ``seconds minutes hours day-of-month month day-of-week [year]``. Airflow's cron timetables take the
five unix fields (``minutes hours day-of-month month day-of-week``) and have minute resolution. This module turns
the first into the second when, and only when, both fire at exactly the same wall-clock times; anything else is
refused with :class:`QuartzConversionError`, whose message names the field and the reason. No Airflow import.

What is accepted:

* numbers, ``*``, ranges (``8-18``), lists (``1,15``), steps (``0/15``, ``*/5``, ``3-20/2``) and Quartz's
  wrap-around ranges (``22-2`` in hours, ``FRI-MON`` in day-of-week), in every field;
* month names ``JAN``-``DEC`` and day names ``SUN``-``SAT``, in any letter case, plus the two-letter day names
  ``SU MO TU WE TH FR SA`` (the scheduler API writes ``FR``; Quartz itself does not accept them, but each one names a single
  day, so reading them cannot change the meaning);
* Quartz day-of-week numbers 1-7 = SUN-SAT, shifted to cron's 0-6 = SUN-SAT;
* ``?`` alone in day-of-month or day-of-week. Quartz demands exactly one ``?``; this module is lenient in one
  way only: ``*`` may stand in for the ``?`` (``0 0 12 * * *`` means every day at noon, ``0 0 12 * * MON`` every
  Monday), because with one day field unrestricted the meaning is unambiguous.

What is refused, because a five-field cron cannot say it exactly:

* a seconds field other than ``0``: Airflow runs at whole minutes, so ``30`` would move every run by 30 s and
  ``*/10`` would drop five runs a minute;
* ``L``, ``W``, ``LW``, ``L-3``, ``15W`` (day-of-month) and ``6L``, ``2#1`` (day-of-week);
* both day fields restricted: Quartz forbids it, and cron would run on days matching *either* field;
* ``?`` in both day fields, or outside them;
* a year field that is not one contiguous range of years (``2025,2027``): Airflow bounds a schedule only by one
  ``start_date`` and one ``end_date``. A contiguous range is returned as ``first_year``/``last_year`` for the caller
  to turn into dates;
* an expression that can never fire (``0 0 0 30 2 ?``; ``29 FEB`` limited to years without a leap day).
"""

from __future__ import annotations

import calendar
import datetime as dt
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass

from airflow_provider_creatio.client.errors import CreatioValidationError

_MONTH_NAMES = {name.upper(): number for number, name in enumerate(calendar.month_abbr) if name}
_DAY_NAMES = {"SUN": 1, "MON": 2, "TUE": 3, "WED": 4, "THU": 5, "FRI": 6, "SAT": 7}
_DAY_ALIASES = {"SU": 1, "MO": 2, "TU": 3, "WE": 4, "TH": 5, "FR": 6, "SA": 7}
_QUARTZ_DAY_LABEL = {number: name for name, number in _DAY_NAMES.items()}
# Every month has at most this many days; February is taken with its leap day.
_MONTH_LENGTH = {month: 29 if month == 2 else calendar.monthrange(2001, month)[1] for month in range(1, 13)}

_VALUE = r"(?:\d+|[A-Z]+)"
_ITEM_RE = re.compile(rf"(?P<start>\*|{_VALUE})(?:-(?P<end>{_VALUE}))?(?:/(?P<step>\d+))?")


class QuartzConversionError(CreatioValidationError):
    """A Quartz expression that is malformed, or that Airflow's cron cannot express exactly.

    ``field`` is the Quartz field at fault (``seconds``, ``minutes``, ``hours``, ``day-of-month``, ``month``,
    ``day-of-week``, ``year``), or ``None`` when the expression as a whole is wrong (its number of fields).
    """

    def __init__(self, expression: str, field: str | None, reason: str) -> None:
        self.expression = expression
        self.field = field
        self.reason = reason
        where = f"{field} field: " if field else ""
        super().__init__(f"Quartz expression {expression!r}: {where}{reason}")


@dataclass(frozen=True)
class _FieldSpec:
    name: str
    low: int
    high: int
    names: Mapping[str, int]

    @property
    def span(self) -> int:
        return self.high - self.low + 1


_SECONDS = _FieldSpec("seconds", 0, 59, {})
_MINUTES = _FieldSpec("minutes", 0, 59, {})
_HOURS = _FieldSpec("hours", 0, 23, {})
_DAY_OF_MONTH = _FieldSpec("day-of-month", 1, 31, {})
_MONTH = _FieldSpec("month", 1, 12, _MONTH_NAMES)
_DAY_OF_WEEK = _FieldSpec("day-of-week", 1, 7, {**_DAY_NAMES, **_DAY_ALIASES})
# Quartz's own limits for the year field.
_YEAR = _FieldSpec("year", 1970, 2099, {})


@dataclass(frozen=True)
class CronEquivalent:
    """A Quartz expression and the five-field cron that fires at exactly the same wall-clock times.

    ``first_year``/``last_year`` are the inclusive year bounds from Quartz's year field (``None`` when it is
    absent or ``*``); the cron itself says nothing about years, so the caller must apply them as start and end
    dates. The remaining fields are the expanded Quartz values, kept for :meth:`fire_times`.
    """

    expression: str
    cron: str
    first_year: int | None
    last_year: int | None
    minutes: tuple[int, ...]
    hours: tuple[int, ...]
    days_of_month: frozenset[int] | None
    months: frozenset[int]
    days_of_week: frozenset[int] | None  # Quartz numbering: 1 = SUN ... 7 = SAT

    def fire_times(self, start: dt.datetime, end: dt.datetime) -> Iterator[dt.datetime]:
        """The naive wall-clock times in ``[start, end]`` at which the Quartz expression fires, in order.

        Both bounds are naive and in the schedule's own time zone. Used to prove that a bounded schedule runs
        at least once; it ignores daylight-saving gaps, as it only needs to find one matching time.
        """
        day = start.date()
        while day <= end.date():
            if self._fires_on(day):
                for hour in self.hours:
                    for minute in self.minutes:
                        moment = dt.datetime.combine(day, dt.time(hour, minute))
                        if moment > end:
                            return
                        if moment >= start:
                            yield moment
            day += dt.timedelta(days=1)

    def _fires_on(self, day: dt.date) -> bool:
        in_years = (
            self.first_year is None or self.last_year is None or self.first_year <= day.year <= self.last_year
        )
        return (
            in_years
            and day.month in self.months
            and (self.days_of_month is None or day.day in self.days_of_month)
            and (self.days_of_week is None or _quartz_weekday(day) in self.days_of_week)
        )


def _quartz_weekday(day: dt.date) -> int:
    """Quartz numbering (1 = SUN ... 7 = SAT) of a date's weekday (Python: 0 = MON ... 6 = SUN)."""
    return (day.weekday() + 1) % 7 + 1


def quartz_to_cron(expression: str) -> CronEquivalent:
    """The exact five-field cron equivalent of a Quartz ``expression``, or :class:`QuartzConversionError`."""
    fields = expression.upper().split()
    if len(fields) not in (6, 7):
        hint = " (a unix cron has 5; Quartz starts with a seconds field)" if len(fields) == 5 else ""
        raise QuartzConversionError(
            expression, None, f"expected 6 or 7 space-separated fields, got {len(fields)}{hint}"
        )
    parser = _Parser(expression)
    seconds_text, minutes_text, hours_text, dom_text, month_text, dow_text = fields[:6]
    year_text = fields[6] if len(fields) == 7 else "*"

    parser.check_seconds(seconds_text)
    minutes = parser.values(_MINUTES, minutes_text)
    hours = parser.values(_HOURS, hours_text)
    months = parser.values(_MONTH, month_text)
    days_of_month, days_of_week = parser.day_fields(dom_text, dow_text)
    first_year, last_year = parser.year_bounds(year_text)
    parser.check_can_fire(days_of_month, months, first_year, last_year)

    cron = " ".join(
        (
            _render(minutes, _MINUTES),
            _render(hours, _HOURS),
            "*" if days_of_month is None else _render(days_of_month, _DAY_OF_MONTH),
            _render(months, _MONTH),
            "*" if days_of_week is None else _render_weekdays(days_of_week),
        )
    )
    return CronEquivalent(
        expression=expression,
        cron=cron,
        first_year=first_year,
        last_year=last_year,
        minutes=tuple(sorted(minutes)),
        hours=tuple(sorted(hours)),
        days_of_month=days_of_month,
        months=months,
        days_of_week=days_of_week,
    )


class _Parser:
    """Reads the fields of one expression; every error it raises names that expression and the field."""

    def __init__(self, expression: str) -> None:
        self.expression = expression

    def error(self, spec: _FieldSpec | None, reason: str) -> QuartzConversionError:
        return QuartzConversionError(self.expression, spec.name if spec else None, reason)

    def check_seconds(self, text: str) -> None:
        if self.values(_SECONDS, text) != {0}:
            raise self.error(
                _SECONDS,
                f"{text!r} cannot be scheduled exactly: Airflow's cron schedules have minute resolution, so only a "
                "seconds field of 0 keeps every run at its Quartz time",
            )

    def values(self, spec: _FieldSpec, text: str) -> frozenset[int]:
        """The set of values a field selects. ``?`` and the L/W/# specials are handled by the callers."""
        if "?" in text:
            raise self.error(spec, f"{text!r}: '?' is only allowed alone, in day-of-month or day-of-week")
        result: set[int] = set()
        for item in text.split(","):
            result.update(self._item(spec, text, item))
        return frozenset(result)

    def _item(self, spec: _FieldSpec, text: str, item: str) -> range | set[int]:
        match = _ITEM_RE.fullmatch(item)
        if match is None:
            raise self.error(spec, f"{text!r}: cannot read {item!r}")
        start_text, end_text, step_text = match.group("start", "end", "step")
        step = self._step(spec, item, step_text)
        if start_text == "*":
            if end_text is not None:
                raise self.error(spec, f"{text!r}: cannot read {item!r} ('*' cannot start a range)")
            return range(spec.low, spec.high + 1, step)
        start = self._number(spec, start_text)
        if end_text is None:
            # "5/15" runs from 5 to the end of the field; "5" alone is the single value.
            return range(start, spec.high + 1, step) if step_text else {start}
        end = self._number(spec, end_text)
        if end >= start:
            return range(start, end + 1, step)
        if spec is _YEAR:
            raise self.error(spec, f"{text!r}: the range {item!r} runs backwards")
        # Quartz reads a backwards range as wrapping around the end of the field: hours 22-2 = 22,23,0,1,2.
        return {
            spec.low + (value - spec.low) % spec.span for value in range(start, end + spec.span + 1, step)
        }

    def _step(self, spec: _FieldSpec, item: str, step_text: str | None) -> int:
        if step_text is None:
            return 1
        step = int(step_text)
        if not 1 <= step <= spec.span:
            raise self.error(spec, f"{item!r}: the step must be between 1 and {spec.span}, got {step}")
        return step

    def _number(self, spec: _FieldSpec, text: str) -> int:
        if text.isdigit():
            number = int(text)
        elif text in spec.names:
            return spec.names[text]
        else:
            kind = "a name" if spec.names else "a number"
            raise self.error(spec, f"{text!r} is not {kind} this field accepts")
        if not spec.low <= number <= spec.high:
            hint = " (Quartz numbers days 1 = SUN to 7 = SAT)" if spec is _DAY_OF_WEEK else ""
            raise self.error(spec, f"{number} is outside {spec.low}-{spec.high}{hint}")
        return number

    def day_fields(self, dom_text: str, dow_text: str) -> tuple[frozenset[int] | None, frozenset[int] | None]:
        """Day-of-month and day-of-week values; ``None`` for the field left open (``?`` or ``*``)."""
        if dom_text == "?" and dow_text == "?":
            raise self.error(
                _DAY_OF_WEEK, "'?' in both day fields selects no day; put '?' in exactly one of them"
            )
        dom_open = dom_text in ("?", "*")
        dow_open = dow_text in ("?", "*")
        if not dom_open and not dow_open:
            raise QuartzConversionError(
                self.expression,
                "day-of-month/day-of-week",
                f"both day fields are restricted ({dom_text!r} and {dow_text!r}): Quartz forbids it (one must "
                "be '?'), and a standard cron would run on days matching either field, not both",
            )
        self._refuse_day_of_month_specials(dom_text)
        self._refuse_day_of_week_specials(dow_text)
        days_of_month = None if dom_open else self.values(_DAY_OF_MONTH, dom_text)
        days_of_week = None if dow_open else self.values(_DAY_OF_WEEK, dow_text)
        return days_of_month, days_of_week

    def _refuse_day_of_month_specials(self, text: str) -> None:
        for item in text.split(","):
            meaning = _day_of_month_special(item)
            if meaning:
                raise self.error(_DAY_OF_MONTH, f"{item!r} ({meaning}) has no standard cron equivalent")

    def _refuse_day_of_week_specials(self, text: str) -> None:
        for item in text.split(","):
            if item == "L":
                raise self.error(
                    _DAY_OF_WEEK,
                    "'L' alone means 7 = SAT in Quartz, which reads like 'last'; write SAT instead",
                )
            meaning = _day_of_week_special(item)
            if meaning:
                raise self.error(_DAY_OF_WEEK, f"{item!r} ({meaning}) has no standard cron equivalent")

    def year_bounds(self, text: str) -> tuple[int | None, int | None]:
        if text == "*":
            return None, None
        years = self.values(_YEAR, text)
        first, last = min(years), max(years)
        if len(years) != last - first + 1:
            raise self.error(
                _YEAR,
                f"{text!r} is not one contiguous range of years; Airflow can bound a schedule only by one "
                "start date and one end date",
            )
        return first, last

    def check_can_fire(
        self,
        days_of_month: frozenset[int] | None,
        months: frozenset[int],
        first_year: int | None,
        last_year: int | None,
    ) -> None:
        if days_of_month is None:
            return  # every month has every weekday
        dates = {(month, day) for month in months for day in days_of_month if day <= _MONTH_LENGTH[month]}
        if not dates:
            raise self.error(
                _DAY_OF_MONTH, "it never fires: none of these days exists in the selected months"
            )
        only_leap_day = dates == {(2, 29)}
        if (
            only_leap_day
            and first_year is not None
            and last_year is not None
            and not _has_leap_year(first_year, last_year)
        ):
            raise self.error(_YEAR, "it never fires: 29 February, and none of these years is a leap year")


def _has_leap_year(first: int, last: int) -> bool:
    return any(calendar.isleap(year) for year in range(first, last + 1))


def _day_of_month_special(item: str) -> str | None:
    if item == "L":
        return "the last day of the month"
    if item == "LW":
        return "the last weekday of the month"
    if re.fullmatch(r"L-\d+", item):
        return f"{item[2:]} days before the last day of the month"
    if re.fullmatch(r"\d+W", item):
        return f"the weekday nearest day {item[:-1]} of the month"
    if "L" in item or "W" in item:
        return "Quartz's L/W special characters"
    return None


def _day_of_week_special(item: str) -> str | None:
    if "#" in item:
        day, _, nth = item.partition("#")
        return f"the {_ordinal(nth)} {_day_label(day)} of the month"
    if item.endswith("L"):
        return f"the last {_day_label(item[:-1])} of the month"
    return None


def _day_label(text: str) -> str:
    number = int(text) if text.isdigit() else _DAY_OF_WEEK.names.get(text)
    return _QUARTZ_DAY_LABEL.get(number, text) if number is not None else text


def _ordinal(text: str) -> str:
    suffix = {"1": "st", "2": "nd", "3": "rd"}.get(text, "th")
    return f"{text}{suffix}"


def _render_weekdays(quartz_days: frozenset[int]) -> str:
    """Quartz 1-7 = SUN-SAT becomes cron 0-6 = SUN-SAT (cron's alias 7 = SUN is never written)."""
    cron_days = frozenset(day - 1 for day in quartz_days)
    return _render(cron_days, _FieldSpec("day-of-week", 0, 6, {}), allow_star_step=False)


def _render(values: frozenset[int], spec: _FieldSpec, *, allow_star_step: bool = True) -> str:
    """The shortest usual cron spelling of exactly ``values``: ``*``, ``*/n``, ``a-b/n``, or ranges and lists."""
    ordered = sorted(values)
    if len(ordered) == spec.span:
        return "*"
    step = ordered[1] - ordered[0] if len(ordered) > 1 else 0
    evenly_spaced = step > 1 and ordered == list(range(ordered[0], ordered[-1] + 1, step))
    if evenly_spaced and allow_star_step and ordered == list(range(spec.low, spec.high + 1, step)):
        return f"*/{step}"
    if evenly_spaced and len(ordered) > 2:
        return f"{ordered[0]}-{ordered[-1]}/{step}"
    return ",".join(_runs(ordered))


def _runs(ordered: list[int]) -> Iterator[str]:
    """Consecutive values as ``a-b`` (three or more) or single numbers."""
    start = previous = ordered[0]
    for value in [*ordered[1:], None]:
        if value is not None and value == previous + 1:
            previous = value
            continue
        if previous - start >= 2:
            yield f"{start}-{previous}"
        else:
            yield from (str(number) for number in range(start, previous + 1))
        if value is not None:
            start = previous = value

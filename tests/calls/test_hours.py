"""Opening hours: local wall-clock ranges in the widget's time zone, across DST and midnight."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from widget_server.calls.hours import (
    HoursError,
    callback_slots,
    callback_time_allowed,
    is_open,
    next_opening,
    validate_hours,
)
from widget_server.models import Widget

WEEKDAYS = {day: [["09:00", "17:00"]] for day in ("mon", "tue", "wed", "thu", "fri")}


def widget(hours, zone="UTC"):
    return Widget(time_zone=zone, opening_hours=hours)


def utc(*parts):
    return datetime(*parts, tzinfo=UTC)


def test_a_widget_without_hours_is_always_open():
    always = widget({})
    for hour in range(0, 24, 5):
        assert is_open(always, utc(2026, 11, 29, hour))
    assert next_opening(always, utc(2026, 11, 29, 3)) == utc(2026, 11, 29, 3)


def test_a_range_is_open_from_its_start_up_to_but_not_at_its_end():
    shop = widget(WEEKDAYS)  # 2026-11-30 is a Monday
    assert not is_open(shop, utc(2026, 11, 30, 8, 59))
    assert is_open(shop, utc(2026, 11, 30, 9, 0))
    assert is_open(shop, utc(2026, 11, 30, 16, 59))
    assert not is_open(shop, utc(2026, 11, 30, 17, 0))


def test_a_day_left_out_is_closed_all_day():
    shop = widget(WEEKDAYS)
    assert not is_open(shop, utc(2026, 11, 29, 12))  # Sunday


def test_hours_are_read_on_the_widgets_local_clock():
    # 09:00-17:00 in Berlin (UTC+1 in winter) is 08:00-16:00 UTC.
    berlin = widget(WEEKDAYS, "Europe/Berlin")
    assert is_open(berlin, utc(2026, 11, 30, 8, 0))
    assert not is_open(berlin, utc(2026, 11, 30, 16, 0))
    # Monday 07:00 in Sydney is Sunday 20:00 UTC: open there while UTC says Sunday.
    sydney = widget({"mon": [["07:00", "09:00"]]}, "Australia/Sydney")
    assert is_open(sydney, utc(2026, 11, 29, 20, 30))


def test_an_overnight_range_runs_into_the_next_morning():
    bar = widget({"fri": [["22:00", "02:00"]]})  # 2026-12-04 is a Friday
    assert not is_open(bar, utc(2026, 12, 4, 21, 59))
    assert is_open(bar, utc(2026, 12, 4, 23, 30))
    assert is_open(bar, utc(2026, 12, 5, 1, 59))
    assert not is_open(bar, utc(2026, 12, 5, 2, 0))
    assert not is_open(bar, utc(2026, 12, 5, 23, 0))  # Saturday night has no range


def test_24_00_ends_a_range_at_midnight():
    late = widget({"mon": [["18:00", "24:00"]]})
    assert is_open(late, utc(2026, 11, 30, 23, 59))
    assert not is_open(late, utc(2026, 12, 1, 0, 0))


def test_the_same_local_hours_follow_daylight_saving_time():
    ny = widget({day: [["09:00", "17:00"]] for day in ("sat", "sun", "mon")},
                "America/New_York")
    # Saturday 2026-03-07 is EST (UTC-5); Monday 2026-03-09 is EDT (UTC-4).
    assert is_open(ny, utc(2026, 3, 7, 14, 0)) and not is_open(ny, utc(2026, 3, 7, 13, 59))
    assert is_open(ny, utc(2026, 3, 9, 13, 0)) and not is_open(ny, utc(2026, 3, 9, 12, 59))
    assert next_opening(ny, utc(2026, 3, 8, 23, 0)) == utc(2026, 3, 9, 13, 0)


def test_a_start_skipped_by_spring_forward_opens_when_the_clock_jumps():
    # On 2026-03-08 New York clocks jump from 02:00 EST to 03:00 EDT (07:00 UTC).
    early = widget({"sun": [["02:30", "05:00"]]}, "America/New_York")
    assert next_opening(early, utc(2026, 3, 8, 5, 0)) == utc(2026, 3, 8, 7, 0)
    assert is_open(early, utc(2026, 3, 8, 7, 0))
    assert not is_open(early, utc(2026, 3, 8, 6, 59))


def test_the_repeated_hour_of_fall_back_is_open_both_times():
    # On 2026-11-01 New York clocks go back from 02:00 EDT to 01:00 EST.
    night = widget({"sun": [["01:00", "02:00"]]}, "America/New_York")
    assert is_open(night, utc(2026, 11, 1, 5, 30))  # 01:30 EDT
    assert is_open(night, utc(2026, 11, 1, 6, 30))  # 01:30 EST
    assert not is_open(night, utc(2026, 11, 1, 7, 0))  # 02:00 EST


def test_next_opening_is_the_next_ranges_start_or_none_when_there_is_none():
    shop = widget(WEEKDAYS)
    assert next_opening(shop, utc(2026, 12, 4, 18)) == utc(2026, 12, 7, 9)  # Fri -> Mon
    assert next_opening(shop, utc(2026, 12, 1, 10)) == utc(2026, 12, 1, 10)  # open now
    assert next_opening(widget({"mon": []}), utc(2026, 12, 1, 10)) is None


def test_callback_slots_are_half_hours_of_opening_in_the_coming_week():
    shop = widget({"mon": [["09:00", "10:30"]], "wed": [["14:00", "15:00"]]})
    slots = callback_slots(shop, utc(2026, 11, 29, 12))  # Sunday
    assert slots == [utc(2026, 11, 30, 9), utc(2026, 11, 30, 9, 30), utc(2026, 11, 30, 10),
                     utc(2026, 12, 2, 14), utc(2026, 12, 2, 14, 30)]


def test_a_callback_time_must_be_open_future_and_within_a_week():
    shop = widget(WEEKDAYS)
    now = utc(2026, 11, 29, 12)
    assert callback_time_allowed(shop, utc(2026, 11, 30, 9, 30), now)
    assert not callback_time_allowed(shop, utc(2026, 11, 30, 18), now)  # closed then
    assert not callback_time_allowed(shop, utc(2026, 11, 27, 10), now)  # past
    assert not callback_time_allowed(shop, now + timedelta(days=8), now)  # too far


@pytest.mark.parametrize("hours", [
    {"monday": [["09:00", "17:00"]]},
    {"mon": [["9:00", "17:00"]]},
    {"mon": [["09:00", "25:00"]]},
    {"mon": [["24:00", "02:00"]]},
    {"mon": [["09:00", "09:00"]]},
    {"mon": ["09:00-17:00"]},
    [["09:00", "17:00"]],
])
def test_hours_that_cannot_be_read_are_refused_with_a_sentence(hours):
    with pytest.raises(HoursError, match=r"\.$"):
        validate_hours(hours)


def test_stored_ranges_that_do_not_read_are_skipped_not_fatal():
    odd = widget({"mon": [["09:00", "17:00"], ["late", "never"], "09-17", ["24:00", "01:00"]],
                  "tue": "all day"})
    assert is_open(odd, utc(2026, 11, 30, 10))
    assert not is_open(odd, utc(2026, 12, 1, 10))
    assert next_opening(odd, utc(2026, 11, 30, 18)) == utc(2026, 12, 7, 9)

"""Geometry for the server-rendered SVG chart of calls per day (no JavaScript library).

The template draws what this computes: one stacked bar per day (a segment per
outcome) and the day's answer rate as a line on a 0-100 % scale.
"""

from __future__ import annotations

from datetime import date, timedelta

from widget_server.reports import OUTCOMES, answer_rate

WIDTH, HEIGHT = 640, 220
LEFT, RIGHT, TOP, BOTTOM = 36, 40, 10, 28
COLOURS = {"answered": "#1a7f37", "unknown": "#8c959f", "failed": "#b42318",
           "rejected": "#bc4c00", "pending": "#0969da"}


def fill_days(days: list[tuple[date, dict[str, int]]], longest: int = 92):
    """``days`` with the days between them that had no call, as zeros (a gap reads as
    a quiet day, not as a shorter axis); spans over ``longest`` days are left as they are."""
    if not days or (days[-1][0] - days[0][0]).days >= longest:
        return days
    counts = dict(days)
    span = (days[-1][0] - days[0][0]).days + 1
    return [(day, counts.get(day, dict.fromkeys(OUTCOMES, 0)))
            for day in (days[0][0] + timedelta(days=n) for n in range(span))]


def day_chart(days: list[tuple[date, dict[str, int]]]) -> dict | None:
    """Bars, rate points and axis ticks for ``days`` (oldest first); None without data."""
    if not days:
        return None
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    peak = max(sum(counts.values()) for _, counts in days) or 1
    slot = plot_w / len(days)
    bar_w = max(2.0, slot * 0.7)
    bars, rate_points = [], []
    label_every = max(1, round(len(days) / 8))
    for index, (day, counts) in enumerate(days):
        x = LEFT + index * slot + (slot - bar_w) / 2
        y: float = TOP + plot_h
        segments = []
        for outcome in OUTCOMES:
            if counts.get(outcome):
                height = plot_h * counts[outcome] / peak
                y -= height
                segments.append({"outcome": outcome, "count": counts[outcome],
                                 "y": round(y, 1), "height": round(height, 1)})
        bars.append({"day": day, "x": round(x, 1), "width": round(bar_w, 1),
                     "segments": segments, "total": sum(counts.values()),
                     "labelled": index % label_every == 0})
        rate = answer_rate(counts)
        if rate is not None:
            rate_points.append(f"{x + bar_w / 2:.1f},{TOP + plot_h * (1 - rate):.1f}")
    return {"width": WIDTH, "height": HEIGHT, "left": LEFT, "top": TOP, "bottom": TOP + plot_h,
            "right": WIDTH - RIGHT, "peak": peak, "bars": bars, "colours": COLOURS,
            "rate_points": " ".join(rate_points), "first": days[0][0], "last": days[-1][0]}

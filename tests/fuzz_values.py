"""Hostile query-string values for the fuzz tests of the admin and the API.

Schemathesis sends what the OpenAPI document allows, and hypothesis' date and
integer strategies rarely land on the edges in a few examples: these strategies
aim at them (the first and last day Python knows, digits past 64 bits, offsets
that move a moment out of range, NUL, other scripts' digits, long text).
"""

from __future__ import annotations

from hypothesis import strategies as st

EDGES = ["0001-01-01", "9999-12-31", "1999-12-31", "3000-01-01", "2025-02-30", "0000-00-00",
         "9999-12-31T23:59:59-23:59", "0001-01-01T00:00:00+23:59", "2025-01-01T25:00:00",
         "9" * 20, "9" * 5000, "-1", "0", "-0", "+1", "1e9", "0x10", "2147483648",
         "18446744073709551616", "١٢", "²", "1 ", "", " ", "\x00", "a" * 300, "%00", "null",
         "true", "[]", "{}", "'", "US\x00", "ZZ", "u" * 101]


def hostile_text() -> st.SearchStrategy[str]:
    return st.one_of(
        st.sampled_from(EDGES),
        st.dates().map(str),
        st.datetimes().map(lambda moment: moment.isoformat()),
        st.integers(min_value=-(10**25), max_value=10**25).map(str),
        st.text(max_size=40),
    )


def hostile_query(names) -> st.SearchStrategy[dict[str, str]]:
    """Some of ``names``, each with a hostile value."""
    return st.dictionaries(st.sampled_from(sorted(names)), hostile_text(), max_size=len(names))

"""Ids that people copy between the admin, the CSV export, the API and the command line."""

from widget_server.admin.reports import csv_cell
from widget_server.models import new_public_id


def test_public_ids_start_with_a_letter_or_digit_so_csv_and_the_command_line_keep_them():
    # token_urlsafe starts with "-" or "_" about once in 32 ids; 5,000 ids would show it.
    ids = {new_public_id() for _ in range(5000)}
    assert len(ids) == 5000
    assert all(public_id[0].isalnum() and len(public_id) == 22 for public_id in ids)
    assert all(csv_cell(public_id) == public_id for public_id in ids)

"""``drive("cli")``: the operations of tests/services/interfaces.py on this test's app."""

import pytest

from tests.services.interfaces import DRIVERS, build_tree


@pytest.fixture
def drive(app):
    tree = build_tree(app)
    return lambda interface: DRIVERS[interface](app, tree)

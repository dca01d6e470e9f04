"""The brand people see is the nearest one above them; the command line sets it too."""

from __future__ import annotations

import json

from click.testing import CliRunner
from flask.cli import ScriptInfo

from tests.factories import SVG_LOGO, create_tree, png_image
from widget_server.cli import main
from widget_server.extensions import db
from widget_server.models import Account
from widget_server.services.brands import brand_for_account, save_brand


def invoke(app, *args: str):
    return CliRunner().invoke(main, list(args), obj=ScriptInfo(create_app=lambda: app))


def shown(app, name: str) -> str:
    with app.app_context():
        account = db.session.scalar(db.select(Account).where(Account.name == name))
        return brand_for_account(account).product_name


def test_the_nearest_branded_account_above_wins(app):
    tree = create_tree(app, resellers={"north": ("north-a",), "south": ("south-a",)})
    with app.app_context():
        operator = db.session.get_one(Account, tree.ids["operator"])
        save_brand(operator, operator.id, product_name="Op Calls")
        save_brand(operator, tree.ids["north"], product_name="North Calls")
    assert [shown(app, name) for name in ("operator", "north", "north-a", "south", "south-a")
            ] == ["Op Calls", "North Calls", "North Calls", "Op Calls", "Op Calls"]


def test_the_command_line_sets_shows_and_removes_a_brand(app, tmp_path):
    create_tree(app, resellers={"north": ("north-a",)})
    logo = tmp_path / "logo.png"
    logo.write_bytes(png_image())
    result = invoke(app, "brand", "set", "--account", "north", "--name", "North Calls",
                    "--colour", "#FFD200", "--support-email", "help@north.example",
                    "--host-name", "admin.north.example", "--logo", str(logo))
    assert result.exit_code == 0, result.output
    shown_json = json.loads(invoke(app, "brand", "show", "--account", "north-a").output)
    assert shown_json["product_name"] == "North Calls"
    assert shown_json["primary_colour"] == "#ffd200"
    assert shown_json["logo"].startswith("/admin/brand/logo/")
    assert invoke(app, "brand", "remove", "--account", "north").exit_code == 0
    assert shown(app, "north-a") == "widget-server"


def test_the_command_line_names_each_option_at_fault(app, tmp_path):
    create_tree(app, resellers={"north": ("north-a",)})
    svg = tmp_path / "logo.svg"
    svg.write_bytes(SVG_LOGO)
    result = invoke(app, "brand", "set", "--account", "north", "--name", "North",
                    "--colour", "red", "--logo", str(svg))
    assert result.exit_code != 0
    assert "--colour: Use a colour such as #0b6e4f." in result.output
    assert "--logo: SVG images are refused" in result.output
    client = invoke(app, "brand", "set", "--account", "north-a", "--name", "A")
    assert client.exit_code != 0 and "Only resellers and the operator set a brand" in client.output

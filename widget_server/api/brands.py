"""White label: the brand a reseller (or the operator) shows its clients.

Under ``/clients/{client_id}/brand``, for the key's own account and every
account under it. Anyone may read the brand an account's people see (its
own, or inherited); only a reseller or the operator sets one (a client is
403), its own or, for the operator, a reseller's. The logo is sent as base64
in JSON, checked by its content; the admin serves it (``logo_url``).
"""

from __future__ import annotations

import base64
import binascii

from widget_server.api.auth import caller
from widget_server.api.blueprint import blueprint
from widget_server.api.endpoint import operation
from widget_server.api.problems import invalid
from widget_server.api.schemas.brands import Brand, BrandSet, LogoUpload
from widget_server.api.schemas.common import Id
from widget_server.models import Account
from widget_server.services.brands import (
    LOGO_MAX_BYTES,
    brand_for_account,
    branding,
    checked_brand,
    own_brand,
    remove_brand,
    remove_logo,
    save_brand,
    set_logo,
)
from widget_server.tenancy import get_scoped
from widget_server.uploads import takes_upload

CLIENT_ID = "<int(max=2147483647):client_id>"


def _answer(account: Account) -> Brand:
    row = own_brand(account.id)
    shown = branding(row) if row is not None else brand_for_account(account)
    return Brand(account_id=account.id, inherited=row is None,
                 product_name=shown.product_name, primary_colour=shown.primary_colour,
                 text_colour=shown.text_colour, support_email=shown.support_email,
                 host_name=shown.host_name, logo_url=shown.logo_path,
                 logo_width=shown.logo_width, logo_height=shown.logo_height)


@blueprint.get(f"/clients/{CLIENT_ID}/brand")
@operation("The brand the account's people see", answer=Brand, errors=(404,))
def get_brand(client_id: Id):
    return _answer(get_scoped(Account, client_id, caller()))


def _brand_rules(client_id: int, body: BrandSet) -> None:
    """The services' refusals of the fields that fit, named beside the ones that do not."""
    account = get_scoped(Account, client_id, caller())
    checked_brand(own_brand(account.id), product_name=body.product_name,
                  primary_colour=body.primary_colour, support_email=body.support_email,
                  host_name=body.host_name)


@blueprint.put(f"/clients/{CLIENT_ID}/brand")
@operation("Set the brand of a reseller or the operator (its logo stays)", body=BrandSet,
           answer=Brand, errors=(403, 404, 409), rules=_brand_rules)
def put_brand(client_id: Id, body: BrandSet):
    account = get_scoped(Account, client_id, caller())
    save_brand(caller(), account.id, product_name=body.product_name,
               primary_colour=body.primary_colour, support_email=body.support_email,
               host_name=body.host_name)
    return _answer(account)


@blueprint.delete(f"/clients/{CLIENT_ID}/brand")
@operation("Remove the brand: the account's people see the one above it again", status=204,
           errors=(403, 404))
def delete_brand(client_id: Id):
    account = get_scoped(Account, client_id, caller())
    remove_brand(caller(), account.id)


@blueprint.put(f"/clients/{CLIENT_ID}/brand/logo")
@takes_upload(LOGO_MAX_BYTES * 4)
@operation("Put the brand's logo (base64)", body=LogoUpload, answer=Brand,
           errors=(403, 404, 409, 413))
def put_logo(client_id: Id, body: LogoUpload):
    account = get_scoped(Account, client_id, caller())
    try:
        data = base64.b64decode(body.image, validate=True)
    except (binascii.Error, ValueError):
        raise invalid({"image": "Send the image's bytes in base64."}) from None
    set_logo(caller(), account.id, data)
    return _answer(account)


@blueprint.delete(f"/clients/{CLIENT_ID}/brand/logo")
@operation("Remove the brand's logo: its product name shows alone", status=204,
           errors=(403, 404))
def delete_logo(client_id: Id):
    account = get_scoped(Account, client_id, caller())
    remove_logo(caller(), account.id)

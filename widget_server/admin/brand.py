"""Admin: the brand of a reseller or the operator, and the brand every admin page shows.

Every template gets ``brand`` (services/brands.py's ``Branding``): the signed-in
user's brand, or before sign-in the brand whose host name was asked (the
operator's on any other host). It is looked up only when a template reads it.
The page's colours come from a stylesheet named by the colour
(``/admin/brand/theme/<rrggbb>.css``: the admin's CSP allows no inline
style); the logo from ``/admin/brand/logo/<digest>``. Both are public (the
sign-in page shows them), typed, ``nosniff`` and cached for good, since their
address changes with their content.

On a brand's host name only people of that brand's subtree are signed in: a
session of anyone else (a cookie copied, or set for a parent domain) is ended
there. Owners of a reseller or of the operator set their brand; the
operator's owners also every reseller's below.
"""

from __future__ import annotations

from flask import (
    abort,
    current_app,
    flash,
    g,
    has_request_context,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user, login_required, logout_user
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from werkzeug.local import LocalProxy
from wtforms import BooleanField, StringField
from wtforms.validators import Length

from widget_server.admin.auth import CAN_ADMINISTER, check_role, current_account
from widget_server.admin.views import blueprint, show_refusal
from widget_server.extensions import db
from widget_server.i18n import lazy_admin_gettext as _l
from widget_server.models import Account
from widget_server.services.brands import (
    BRANDING_KINDS,
    DEFAULT_COLOUR,
    KEEP,
    LOGO_MAX_BYTES,
    Branding,
    Keep,
    brand_for_account,
    brand_for_host,
    branding,
    logo_by_digest,
    may_sign_in_on,
    operator_branding,
    own_brand,
    remove_brand,
    save_brand,
)
from widget_server.services.errors import ServiceError
from widget_server.tenancy import get_scoped, scoped_select
from widget_server.uploads import takes_upload

ACCOUNT = "<int(max=2147483647):account_id>"
FOREVER = "public, max-age=31536000, immutable"


def current_brand() -> Branding:
    """The brand of this request's page, found once per request; the operator's outside
    a request (a template rendered by the queue should be given its own ``brand``)."""
    if not has_request_context():
        return operator_branding()
    if "admin_brand" not in g:
        g.admin_brand = (brand_for_account(current_user.account)
                         if current_user.is_authenticated else brand_for_host(request.host))
    return g.admin_brand


@blueprint.app_context_processor
def brand_context() -> dict:
    return {"brand": LocalProxy(current_brand)}


@blueprint.before_request
def keep_sessions_on_their_host():
    """A brand's host name serves its own people only: anyone else's session ends here."""
    if current_user.is_authenticated and not may_sign_in_on(request.host, current_user.account):
        logout_user()
        g.pop("admin_brand", None)
        if request.endpoint != "admin.sign_in":
            return redirect(url_for("admin.sign_in"))
    return None


class BrandForm(FlaskForm):
    product_name = StringField(_l("Product name"), validators=[Length(max=60)],
                               description=_l("What your clients read in the admin's title, "
                                              "header and mails."))
    primary_colour = StringField(_l("Primary colour"), validators=[Length(max=7)],
                                 description=_l("Such as #0b6e4f: the header line and "
                                                "buttons. Their text is black or white, "
                                                "whichever reads."))
    support_email = StringField(_l("Support e-mail"), validators=[Length(max=254)],
                                description=_l("Shown on every page and in every mail; "
                                               "replies to mails go there."))
    host_name = StringField(_l("Admin host name"), validators=[Length(max=253)],
                            description=_l("Optional, such as admin.example.com: point it "
                                           "at this server, and the admin answers there "
                                           "with your brand to your people only."))
    logo = FileField(_l("Logo"), description=_l("PNG, JPEG or WebP, at most 200 KB and "
                                                "2048 pixels a side. SVG is refused: it "
                                                "can carry scripts."))
    remove_logo = BooleanField(_l("Remove the logo"))


def _brandable(account_id: int) -> Account:
    """The account, if the signed-in owner may set its brand: 404 outside the subtree,
    403 for a client account or a user who is not an owner."""
    account = get_scoped(Account, account_id, current_account())
    check_role(CAN_ADMINISTER)
    if account.kind not in BRANDING_KINDS:
        abort(403)
    return account


def _page(account: Account, form: BrandForm, status: int = 200):
    below = []
    if account.kind == "operator":
        below = list(db.session.scalars(scoped_select(Account, account).where(
            Account.kind == "reseller").order_by(Account.name)))
    row = own_brand(account.id)
    return render_template("admin/brand.html", account=account, form=form,
                           shown=branding(row) if row else brand_for_account(account),
                           own=row is not None, below=below), status


@blueprint.get(f"/accounts/{ACCOUNT}/brand")
@login_required
def brand_page(account_id: int):
    account = _brandable(account_id)
    row = own_brand(account.id)
    # Named fields, not obj=row: the form would load the logo's bytes into its file field.
    form = BrandForm(data={"product_name": row.product_name,
                           "primary_colour": row.primary_colour,
                           "support_email": row.support_email or "",
                           "host_name": row.host_name or ""} if row
                     else {"primary_colour": DEFAULT_COLOUR})
    return _page(account, form)


@blueprint.post(f"/accounts/{ACCOUNT}/brand")
@takes_upload(LOGO_MAX_BYTES * 4)
@login_required
def brand_save(account_id: int):
    account = _brandable(account_id)
    form = BrandForm()
    if not form.validate_on_submit():
        return _page(account, form, status=400)
    upload = form.logo.data
    logo: bytes | Keep | None = KEEP
    if form.remove_logo.data:
        logo = None
    elif upload and upload.filename:
        logo = upload.read(LOGO_MAX_BYTES * 4)
    try:
        save_brand(current_user, account.id, product_name=form.product_name.data,
                   primary_colour=form.primary_colour.data,
                   support_email=form.support_email.data, host_name=form.host_name.data,
                   logo=logo)
    except (ServiceError, ExceptionGroup) as error:
        show_refusal(form, error)
        return _page(account, form, status=409 if _conflict(error) else 400)
    flash(str(_l("Brand saved: %(name)s's clients see it on every page and in every mail.",
                 name=account.name)), "success")
    return redirect(url_for("admin.brand_page", account_id=account.id))


def _conflict(error: ServiceError | ExceptionGroup) -> bool:
    return isinstance(error, ServiceError) and error.kind == "conflict"


@blueprint.post(f"/accounts/{ACCOUNT}/brand/delete")
@login_required
def brand_remove(account_id: int):
    account = _brandable(account_id)
    try:
        remove_brand(current_user, account.id)
    except ServiceError as error:
        abort(404 if error.kind == "not_found" else 403)
    flash(str(_l("Brand removed: %(name)s's clients see the brand above it again.",
                 name=account.name)), "success")
    return redirect(url_for("admin.brand_page", account_id=account.id))


@blueprint.get("/brand/logo/<string(length=32):digest>")
def brand_logo(digest: str):
    row = logo_by_digest(digest)
    if row is None or row.logo is None or row.logo_type is None:
        abort(404)
    return _cached(row.logo, row.logo_type)


def _cached(data: bytes, content_type: str):
    """Content named by its address: typed, never sniffed, cached for good."""
    response = current_app.response_class(data, mimetype=content_type)
    response.headers["Cache-Control"] = FOREVER
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Disposition"] = "inline"
    return response


@blueprint.get("/brand/theme/<string(length=6):colour>.css")
def brand_theme(colour: str):
    """The page's colours as custom properties of ``static/admin.css``."""
    if colour != colour.lower() or not all(c in "0123456789abcdef" for c in colour):
        abort(404)
    shown = Branding(account_id=None, product_name="", primary_colour=f"#{colour}")
    css = (f":root{{--accent:{shown.primary_colour};--on-accent:{shown.text_colour};"
           f"--accent-ink:{shown.ink_colour}}}\n")
    return _cached(css.encode(), "text/css")

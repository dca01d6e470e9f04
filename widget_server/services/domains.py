"""A widget's domain whitelist: the hosts whose pages may embed it.

What an entry may be is ``security/origins.normalise_domain``'s rule; the
command line, the API and the admin add and remove entries here, so an entry
is read, and a duplicate refused, the same way everywhere.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select

from widget_server.extensions import db
from widget_server.models import AllowedDomain, Widget
from widget_server.security.origins import normalise_domain
from widget_server.services.actors import Actor, check_widget
from widget_server.services.errors import ServiceError


def _normalised(raw: str, field: str) -> str:
    try:
        return normalise_domain(raw)
    except ValueError as error:  # DomainError, or a URL that does not parse
        raise ServiceError(str(error), field) from None


def normalise_domains(raws: Iterable[str], field: str = "domains") -> list[str]:
    """The entries' canonical forms, sorted, each once."""
    return sorted({_normalised(raw, field) for raw in raws})


def add_domain(actor: Actor, widget: Widget, raw: str) -> AllowedDomain:
    """Whitelist ``raw`` (normalised) for ``widget``; a conflict when it is there already."""
    check_widget(actor, widget)
    pattern = _normalised(raw, "pattern")
    if any(domain.pattern == pattern for domain in widget.domains):
        raise ServiceError("%(pattern)s is on the list already.", "pattern", kind="conflict",
                           params={"pattern": pattern})
    domain = AllowedDomain(pattern=pattern)
    widget.domains.append(domain)
    db.session.commit()
    return domain


def remove_domain(actor: Actor, widget: Widget, domain_id: int) -> AllowedDomain:
    """Take entry ``domain_id`` off ``widget``'s list: pages there can no longer show it."""
    domain = db.session.scalar(select(AllowedDomain).where(
        AllowedDomain.id == domain_id, AllowedDomain.widget_id == widget.id))
    if domain is None:  # not found for every role, as another tenant's widget is
        raise ServiceError("This widget has no such domain.", kind="not_found")
    check_widget(actor, widget)
    db.session.delete(domain)
    db.session.commit()
    return domain

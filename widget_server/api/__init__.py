"""The management API: JSON over HTTPS for resellers' own systems, at /api/v1.

Programs authenticate with an API key, ``Authorization: Bearer wsk_...``,
issued in the admin or by ``widget-server apikey create``; a key acts for
its account and everything under it (a reseller: itself and its clients; a
client: itself). Objects outside that subtree answer 404, as if absent.

Resources (snake_case throughout; ids are integers, except widgets and calls,
which use their public ids):

- ``/clients``: accounts under the key's account; create (resellers and the
  operator), read, update names, daily/monthly allowances within the
  parent's, ``may_add_providers`` and ``max_widgets``; ``POST
  /clients/{id}/suspend`` and ``/unsuspend``; delete (its calls stay). No key
  does any of these to its own account.
- ``/users``: the people who sign in to the admin; ``PATCH`` changes a role.
- ``/widgets``: list, create, read, update, delete (soft: history stays, the
  snippet stops working), ``POST /widgets/{id}/rotate_token``. Each widget
  carries its ``embed_snippet``.
- ``/widgets/{id}/domains``: the embed whitelist; add and remove entries.
- ``/clients/{id}/blocked_numbers``: an account's block list (its own id, or
  an account under it); add a number (E.164, or national with ``country``)
  and remove entries. Its widgets refuse to call these numbers back.
- ``/clients/{id}/brand``: white label. The brand an account's people see
  (its own or inherited); a reseller or the operator sets its own (the
  operator also a reseller's) with ``PUT``, and its logo with ``PUT
  /clients/{id}/brand/logo`` (base64 PNG, JPEG or WebP, at most 200 KB).
- ``/provider_accounts``: list, create, read, update. ``credentials`` are
  write-only: accepted on create and on update (a rotation), answered only
  as ``has_credentials``.
- ``/calls``: filter by ``widget_id``, ``client_id``, ``status``, ``country``,
  ``since``, ``until``; one call with its events (state changes, and provider
  exchanges already redacted).
- ``/reports/usage``: requests per account in the subtree in a closed month
  (``?month=YYYY-MM``) or since a date, with a total.
- ``/reports/refusals``: refused requests per widget, UTC day and reason.
- ``/webhooks``: endpoints that receive an account's call events, signed by
  Standard Webhooks; the signing secret is answered once, on create and
  ``POST /webhooks/{id}/rotate_secret``. Deliveries are listed per endpoint;
  ``POST /webhooks/{id}/test`` sends a ``webhook.test`` event.

Lists take ``?page=`` and ``?per_page=`` (at most 100) and answer
``{items, page, per_page, total, next}`` with a ``Link: <...>; rel="next"``.
Requests are limited per client address (``LIMIT_API``); a 429 is a
problem too. Errors are ``application/problem+json`` (RFC 9457): ``type``, ``title``,
``status``, ``detail``, and ``errors`` per field on 422; an unknown body
field or query parameter is a 422 too. Request bodies must be
``application/json`` (else 415). Each shape is one pydantic model
(``api/schemas/``) that validates, serialises and generates the OpenAPI 3.1
document at ``/api/v1/openapi.json``; tests hold it to the routes and the
responses.
"""

from widget_server.api import (  # noqa: F401  (imported for the routes they add)
    blocked_numbers,
    brands,
    calls,
    clients,
    openapi,
    providers,
    reports,
    users,
    webhooks,
    widgets,
)
from widget_server.api.blueprint import blueprint

__all__ = ["blueprint"]

"""Webhook endpoints: the account's calls pushed, signed, to a URL of its choosing.

Every change goes through services/webhooks.py. The signing secret is in the
answers of create and ``rotate_secret`` only; reads never carry it.
"""

from __future__ import annotations

from widget_server.api.auth import caller
from widget_server.api.blueprint import blueprint
from widget_server.api.endpoint import operation, paginated
from widget_server.api.schemas import webhooks as schema
from widget_server.api.schemas.common import Id, PageQuery
from widget_server.models import WebhookEndpoint
from widget_server.services import webhooks

ID = "<int(max=2147483647):webhook_id>"


def _with_secret(endpoint: WebhookEndpoint, secret: str) -> schema.WebhookWithSecret:
    answer = schema.Webhook.model_validate(endpoint).model_dump()
    return schema.WebhookWithSecret.model_validate(answer | {"secret": secret})


def _check_new(body: schema.WebhookCreate) -> None:
    webhooks.check_fields(**body.model_dump(include={"url", "events"}, exclude_unset=True))


def _check_update(webhook_id: int, body: schema.WebhookUpdate) -> None:
    webhooks.check_fields(**body.model_dump(include={"url", "events"}, exclude_unset=True))


@blueprint.get("/webhooks")
@operation("Webhook endpoints", query=schema.WebhookQuery, answer=schema.WebhookPage)
def list_webhooks(query: schema.WebhookQuery):
    return paginated(query, webhooks.endpoints_select(caller(), query.account_id),
                     schema.WebhookPage)


@blueprint.post("/webhooks")
@operation("Register an endpoint; the answer shows its signing secret once",
           body=schema.WebhookCreate, answer=schema.WebhookWithSecret, status=201,
           errors=(404,), rules=_check_new)
def create_webhook(body: schema.WebhookCreate):
    endpoint, secret = webhooks.create_endpoint(caller(), body.account_id, body.url,
                                                body.events)
    return _with_secret(endpoint, secret)


@blueprint.get(f"/webhooks/{ID}")
@operation("One endpoint (never its secret)", answer=schema.Webhook, errors=(404,))
def get_webhook(webhook_id: Id):
    return schema.Webhook.model_validate(webhooks.visible_endpoint(caller(), webhook_id))


@blueprint.patch(f"/webhooks/{ID}")
@operation("Change the URL, the events, or enable and disable", body=schema.WebhookUpdate,
           answer=schema.Webhook, errors=(404,), rules=_check_update)
def update_webhook(webhook_id: Id, body: schema.WebhookUpdate):
    endpoint = webhooks.visible_endpoint(caller(), webhook_id)
    return schema.Webhook.model_validate(webhooks.update_endpoint(
        caller(), endpoint, **body.model_dump(exclude_unset=True)))


@blueprint.delete(f"/webhooks/{ID}")
@operation("Delete an endpoint and its delivery log", status=204, errors=(404,))
def delete_webhook(webhook_id: Id):
    webhooks.delete_endpoint(caller(), webhooks.visible_endpoint(caller(), webhook_id))


@blueprint.post(f"/webhooks/{ID}/rotate_secret")
@operation("New signing secret, shown once; the old one stops at once",
           answer=schema.WebhookWithSecret, errors=(404,))
def rotate_webhook_secret(webhook_id: Id):
    endpoint = webhooks.visible_endpoint(caller(), webhook_id)
    return _with_secret(endpoint, webhooks.rotate_secret(caller(), endpoint))


@blueprint.get(f"/webhooks/{ID}/deliveries")
@operation("The endpoint's deliveries, newest first", query=PageQuery,
           answer=schema.WebhookDeliveryPage, errors=(404,))
def list_webhook_deliveries(webhook_id: Id, query: PageQuery):
    endpoint = webhooks.visible_endpoint(caller(), webhook_id)
    return paginated(query, webhooks.deliveries_select(endpoint), schema.WebhookDeliveryPage)


@blueprint.post(f"/webhooks/{ID}/test")
@operation("Send a webhook.test event to the endpoint", answer=schema.WebhookDelivery,
           status=202, errors=(404, 409))
def test_webhook(webhook_id: Id):
    endpoint = webhooks.visible_endpoint(caller(), webhook_id)
    return schema.WebhookDelivery.model_validate(webhooks.send_test_event(caller(), endpoint))

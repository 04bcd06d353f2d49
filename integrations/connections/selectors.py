"""Reads of connections."""

from integrations.models import Connection


def connections_matching(
    *, event: str, owner_slug: str | None = None, measurement_type_slug: str | None = None, webhook_endpoint=None
):
    qs = Connection.objects.filter(is_active=True, event=event).select_related("owner", "measurement_type")
    if webhook_endpoint is not None:
        return qs.filter(webhook_endpoint=webhook_endpoint)
    return [
        connection
        for connection in qs
        if (connection.owner is None or connection.owner.slug == owner_slug)
        and (connection.measurement_type is None or connection.measurement_type.slug == measurement_type_slug)
    ]

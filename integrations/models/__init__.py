"""Models of the integrations layer, one module per concern."""

from integrations.models.connections import *  # noqa: F403
from integrations.models.credentials import *  # noqa: F403
from integrations.models.runs import *  # noqa: F403
from integrations.models.settings import *  # noqa: F403
from integrations.models.webhooks import *  # noqa: F403

"""AdminFunction: the admin API (/admin/..., IAM-authorized): routes and PINs for the apps that
create meetings, and a caller's lockout for operators. Settings, credentials and the table
client are created once per container; tests replace ``app.admin`` with their own.
"""

from __future__ import annotations

import os
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from dialin.admin.api import AdminApp
from dialin.admin.callers import Callers
from dialin.admin.table import Admin
from dialin.core.config import Settings, api_base_url_setting
from dialin.core.pins import RECOMMENDED_PIN_LENGTH
from dialin.edge.credentials import Credentials
from dialin.edge.dynamo import dynamodb_client
from dialin.edge.observability import logger, metrics
from dialin.guard.defences import policies
from dialin.rooms.table import RoomTable

settings = Settings.from_env()
# Digits of generated PINs (the stack's PinLength); Admin keeps it within the PIN limits.
pin_length = os.environ.get("PIN_LENGTH", "")
client = dynamodb_client(settings.dynamodb_endpoint_url)
twilio = Credentials(settings)
clients: Any = None


def twilio_client(account: str) -> Any:
    """An account's Twilio REST client (TwilioApiBaseUrl when set), made on first use:
    twilio.rest is no part of the cold start."""
    global clients
    if clients is None:
        from dialin.edge.rest import ClientCache

        clients = ClientCache(twilio, api_base_url_setting(os.environ))
    return clients.get(account)


admin = AdminApp(
    Admin(
        client,
        settings.table_name,
        Credentials(settings).pepper,
        min_pin_length=settings.min_pin_length,
        pin_length=int(pin_length) if pin_length.isdigit() else RECOMMENDED_PIN_LENGTH,
    ),
    # The stack's Lockout* parameters, as the voice function reads them: who is locked out.
    lockout=policies(settings)[0],
    # The stack's further Twilio accounts: with any, PINs and room operations name theirs.
    accounts=settings.twilio_accounts,
    # A room's phone callers: removed or moved through the Calls API.
    callers=Callers(
        RoomTable(client, settings.table_name),
        twilio_client,
        twilio.account_sid,
        accounts=settings.twilio_accounts,
    ),
    public_base_url=settings.public_base_url,
)


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return admin.handle(event)

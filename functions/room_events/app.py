"""RoomEventsFunction: Twilio Video room status callbacks (POST /video/status), and the
per-minute check that ends rooms where only phone callers remain.

Keeps each room's state in the table and moves held calls into a room through the Calls API
the moment it starts. Clients and settings are created once per container; tests replace
``app.room_events`` with their own.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from dialin.core.config import Settings
from dialin.edge.credentials import Credentials
from dialin.edge.dynamo import dynamodb_client
from dialin.edge.observability import logger, metrics
from dialin.rooms.events import RoomEventsApp

settings = Settings.from_env()
room_events = RoomEventsApp.on_table(
    settings, dynamodb_client(settings.dynamodb_endpoint_url), Credentials(settings)
)


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return room_events.handle(event)

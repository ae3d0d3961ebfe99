"""DialOutFunction: POST /calls (IAM-authorized) places a phone call that joins a Video room.

The only function that loads the Twilio REST client. Settings, credentials and the HTTP
client are created once per container; tests replace ``app.dial_out`` with their own.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from dialin.core.config import Settings
from dialin.dialout.app import DialOutApp
from dialin.dialout.rate import CallRate
from dialin.dialout.request import DialOutSettings
from dialin.edge.credentials import Credentials
from dialin.edge.dynamo import dynamodb_client
from dialin.edge.observability import logger, metrics

_settings = Settings.from_env()
dial_out = DialOutApp(
    settings=DialOutSettings.from_env(),
    credentials=Credentials(_settings),
    rate=CallRate(dynamodb_client(_settings.dynamodb_endpoint_url), _settings.table_name)
    if _settings.table_name
    else None,
)


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return dial_out.handle(event)

"""VoiceFunction: the Twilio voice webhooks (/voice/incoming, /voice/pin, /voice/wait,
/voice/status) and the number's fallback URL (/voice/fallback, which needs neither the
table nor the secrets).

One function serves every step, so a call's steps share warm containers. Clients and
settings are created once per container; tests replace ``app.voice`` with their own.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from dialin.core.config import Settings
from dialin.edge.credentials import Credentials
from dialin.edge.dynamo import dynamodb_client
from dialin.edge.observability import logger, metrics
from dialin.voice.app import VoiceApp

settings = Settings.from_env()
voice = VoiceApp.on_table(settings, dynamodb_client(settings.dynamodb_endpoint_url), Credentials(settings))


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return voice.handle(event)

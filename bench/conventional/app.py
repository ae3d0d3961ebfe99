"""A conventional Powertools-style voice webhook, for comparison only (not deployed).

It does the same job as functions/voice/app.py for the incoming call and the PIN step,
written the way such handlers usually are: an event-handler router, Logger, Tracer and
Metrics, secrets through ``parameters.get_secret``, a ``boto3.resource`` table and the
twilio REST client imported at module level. bench/run.py times its cold init.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
from urllib.parse import parse_qsl

import boto3
from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities import parameters
from aws_lambda_powertools.utilities.typing import LambdaContext
from twilio.request_validator import RequestValidator
from twilio.rest import Client
from twilio.twiml.voice_response import VoiceResponse

logger = Logger()
tracer = Tracer()
metrics = Metrics()
app = APIGatewayRestResolver()
table = boto3.resource("dynamodb").Table(os.environ["TABLE_NAME"])


def twilio_secret() -> dict[str, str]:
    return json.loads(parameters.get_secret(os.environ["TWILIO_SECRET_ARN"], max_age=300))


def twilio_client() -> Client:
    secret = twilio_secret()
    return Client(secret["accountSid"], secret["authToken"])


def signed_form() -> dict[str, str] | None:
    request = app.current_event
    form = dict(parse_qsl(request.decoded_body or "", keep_blank_values=True))
    url = f"https://{request.headers.get('Host', '')}{request.request_context.path}"
    validator = RequestValidator(twilio_secret()["authToken"])
    if not validator.validate(url, form, request.headers.get("X-Twilio-Signature", "")):
        return None
    return form


def twiml(response: VoiceResponse) -> Response:
    return Response(status_code=200, content_type="application/xml", body=response.to_xml())


@app.post("/voice/incoming")
@tracer.capture_method
def incoming() -> Response:
    form = signed_form()
    if form is None:
        return Response(status_code=403, content_type="text/plain", body="Forbidden")
    metrics.add_metric(name="Calls", unit=MetricUnit.Count, value=1)
    route = table.get_item(Key={"pk": f"ROUTE#{form.get('To', '')}", "sk": "ROUTE"}).get("Item")
    response = VoiceResponse()
    if not route:
        response.say("Sorry, this number is not connected to a meeting. Goodbye.")
        response.hangup()
    elif route.get("mode") == "direct":
        response.connect().room(route["room"])
    else:
        gather = response.gather(input="dtmf", finish_on_key="#", action="pin", method="POST")
        gather.say("Please enter your meeting PIN, followed by the pound key.")
    return twiml(response)


@app.post("/voice/pin")
@tracer.capture_method
def pin() -> Response:
    form = signed_form()
    if form is None:
        return Response(status_code=403, content_type="text/plain", body="Forbidden")
    pepper = parameters.get_secret(os.environ["PIN_PEPPER_SECRET_ARN"], max_age=300)
    digest = hmac.new(pepper.encode(), form.get("Digits", "").encode(), hashlib.sha256).hexdigest()
    grant = table.get_item(Key={"pk": f"PIN#{digest}", "sk": "PIN"}).get("Item")
    response = VoiceResponse()
    if grant:
        response.connect().room(grant["room"], participant_identity=grant.get("identity"))
    else:
        response.say("Sorry, that PIN was not recognised.")
        response.redirect("incoming", method="POST")
    return twiml(response)


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict, context: LambdaContext) -> dict:
    return app.resolve(event, context)

"""Write events/*.json (one per webhook step and outcome, and one or more for each other
function: dial-out, the admin API, the room callback and the schedule) and events/env.json.

The Twilio events are signed with the documented dev token for the URL that `sam local`
presents (http://127.0.0.1:3000 + the route), and use the demo directory in events/seed.json;
the IAM-authorized ones carry the caller API Gateway would name. ``target`` says which of the
template's functions and events an event is for. Run with `make events` (or `python -m
dialin_tools.lib.sample_events`).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from dialin.calls.steps import ConfirmState, PinState, Speech, WaitState, query_pairs
from dialin_tools.lib import template as tpl
from dialin_tools.lib.apigw import DEV_AUTH_TOKEN, DEV_PIN_PEPPER, rest_event, signed_twilio_event
from dialin_tools.lib.template import ROOT

EVENTS_DIR = ROOT / "events"
SAM_LOCAL_URL = "http://127.0.0.1:3000"
LOCAL_TABLE = "dialin-local"
DIRECT_NUMBER = "+15555550100"
PIN_NUMBER = "+15555550101"
CALLER = "+15555550123"
CALL_SID = "CA" + "0" * 31 + "1"
# Step URLs carry the time of the <Connect>. These are far in the future (2100-01-01), so
# the "not started" event shows that answer whenever it is replayed; "ended" is in the past.
FUTURE = 4_102_444_800
PAST = 1_700_000_000
# `dialin serve --port 3001` beside `sam local start-api` on 3000: its embedded DynamoDB and
# its stand-in for Twilio's REST API, seen from sam's container (docs/local.md).
HOST_FROM_CONTAINER = "http://host.docker.internal"
DYNAMODB_FROM_CONTAINER = f"{HOST_FROM_CONTAINER}:8000"
SERVE_PORT = 3001
IAM_CALLER = "arn:aws:iam::123456789012:user/local-developer"


def _params(to: str, **extra: str) -> dict[str, str]:
    params = {
        "AccountSid": "AC" + "0" * 32,
        "ApiVersion": "2010-04-01",
        "CallSid": CALL_SID,
        "CallStatus": "in-progress",
        "Called": to,
        "Caller": CALLER,
        "Direction": "inbound",
        "From": CALLER,
        "To": to,
    }
    params.update(extra)
    return params


def build_events() -> dict[str, dict[str, Any]]:
    pin_state = PinState(1, 3, Speech("Polly.Joanna", "en-US"), "last-digits").query()
    wait = WaitState("DailyStandup", "phone-0123-demo1", FUTURE, FUTURE, 0, Speech())
    ended = WaitState("DailyStandup", "phone-0123-demo1", PAST, PAST, 0, Speech())
    invited = ConfirmState("DailyStandup", "dr-jones", FUTURE, Speech()).query()

    def event(route: str, to: str, query: dict[str, object] | None = None, **extra: str) -> dict[str, Any]:
        return signed_twilio_event(
            base_url=SAM_LOCAL_URL,
            route=route,
            params=_params(to, **extra),
            query=query_pairs(query) if query else (),
            stage="Prod",
        )

    events = {
        "incoming-direct": event("/voice/incoming", DIRECT_NUMBER),
        "incoming-pin-prompt": event("/voice/incoming", PIN_NUMBER),
        "incoming-unknown-number": event("/voice/incoming", "+15555550199"),
        "pin-ok": event("/voice/pin", PIN_NUMBER, pin_state, Digits="246810"),
        "pin-guest-ok": event("/voice/pin", PIN_NUMBER, pin_state, Digits="135790"),
        "pin-wrong": event("/voice/pin", PIN_NUMBER, pin_state, Digits="111111"),
        "wait-room-not-started": event("/voice/wait", DIRECT_NUMBER, wait.query()),
        "wait-session-ended": event("/voice/wait", DIRECT_NUMBER, ended.query()),
        "confirm-pressed-1": event("/voice/confirm", DIRECT_NUMBER, invited, Digits="1"),
        "confirm-no-key": event("/voice/confirm", DIRECT_NUMBER, invited),
        "status-completed": event("/voice/status", DIRECT_NUMBER, CallStatus="completed", CallDuration="42"),
    }
    room = {"AccountSid": "AC" + "0" * 32, "RoomName": "DailyStandup", "RoomSid": "RM" + "0" * 31 + "1"}
    room.update(RoomStatus="in-progress", RoomType="group", Timestamp="2030-01-01T09:00:00.000Z")
    events["room-created"] = signed_twilio_event(
        base_url=SAM_LOCAL_URL,
        route="/video/status",
        params={**room, "StatusCallbackEvent": "room-created", "SequenceNumber": "0"},
        stage="Prod",
    )
    events.update(iam_events())
    bad = event("/voice/incoming", DIRECT_NUMBER)
    bad["headers"]["X-Twilio-Signature"] = "bm90LWEtdmFsaWQtc2lnbmF0dXJlIQ=="
    bad["multiValueHeaders"]["X-Twilio-Signature"] = [bad["headers"]["X-Twilio-Signature"]]
    events["bad-signature"] = bad
    for name, item in events.items():
        # sam local presents the stage-less path, like `dialin serve`.
        item["requestContext"]["path"] = item["path"]
        # Stable values, so regenerating changes nothing unless the code did.
        item["requestContext"].update(
            requestId=f"sample-{name}",
            requestTime="01/Jan/2030:00:00:00 +0000",
            requestTimeEpoch=1893456000000,
        )
        if "I-Twilio-Idempotency-Token" in item["headers"]:
            token = f"sample-{name}"
            item["headers"]["I-Twilio-Idempotency-Token"] = token
            item["multiValueHeaders"]["I-Twilio-Idempotency-Token"] = [token]
    events["phone-only-check"] = scheduled_event("RoomEventsFunction", "PhoneOnlyCheck")
    return events


def iam_event(method: str, route: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
    """A request to an IAM-authorized route, as API Gateway hands it on once SigV4 checked out."""
    item = rest_event(
        method=method,
        resource=route,
        path=route,
        stage="Prod",
        headers={"Host": SAM_LOCAL_URL.partition("://")[2], "Content-Type": "application/json"},
        body=None if body is None else json.dumps(body),
    )
    item["requestContext"]["identity"].update(userArn=IAM_CALLER, caller="AIDAEXAMPLE")
    return item


def iam_events() -> dict[str, dict[str, Any]]:
    invite = {"to": CALLER, "room": "DailyStandup", "identity": "dr-jones", "caller": "Dr Smith"}
    pin = {"room": "Visit-42", "identity": "dr-jones", "ends_with_room": True}
    return {
        "dial-out": iam_event("POST", "/calls", invite),
        "admin-create-pin": iam_event("POST", "/admin/pins", pin),
        "admin-list-routes": iam_event("GET", "/admin/routes"),
    }


def scheduled_event(function: str, event: str) -> dict[str, Any]:
    """What EventBridge hands ``function`` for its Schedule ``event``; the rule is named as SAM
    names it (stack, function and event, then a suffix)."""
    rule = f"twilio-video-dialin-{function}{event}-SAMPLE"
    return {
        "version": "0",
        "id": "sample-schedule",
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": "123456789012",
        "time": "2030-01-01T00:00:00Z",
        "region": "us-east-1",
        "resources": [f"arn:aws:events:us-east-1:123456789012:rule/{rule}"],
        "detail": {},
    }


def target(template: dict[str, Any], item: dict[str, Any]) -> tuple[str, str] | None:
    """(function, event id) of the template that ``item`` is for, or None when none is: an API
    event by its method and declared route, a scheduled one by its rule's name."""
    if item.get("source") == "aws.events":
        rules = " ".join(str(arn).rpartition(":rule/")[2] for arn in item.get("resources") or ())
        return next(
            (
                (fn, ev)
                for fn, _, ev, _ in tpl.function_events(template, "Schedule")
                if f"-{fn}{ev}-" in rules
            ),
            None,
        )
    method, resource = str(item.get("httpMethod", "")), str(item.get("resource", ""))
    return next(
        ((r.function, r.event) for r in tpl.api_routes(template) if (r.method, r.path) == (method, resource)),
        None,
    )


def env_json() -> dict[str, Any]:
    return {
        "VoiceFunction": {
            "TABLE_NAME": LOCAL_TABLE,
            "PUBLIC_BASE_URL": SAM_LOCAL_URL,
            "TWILIO_SECRET_ARN": "",
            "PIN_PEPPER_SECRET_ARN": "",
            "TWILIO_AUTH_TOKEN": DEV_AUTH_TOKEN,
            "PIN_PEPPER": DEV_PIN_PEPPER,
            "DYNAMODB_ENDPOINT_URL": DYNAMODB_FROM_CONTAINER,
        },
        # Room callbacks; held calls are moved through `dialin serve`'s stand-in for Twilio.
        "RoomEventsFunction": {
            "TABLE_NAME": LOCAL_TABLE,
            "PUBLIC_BASE_URL": SAM_LOCAL_URL,
            "TWILIO_SECRET_ARN": "",
            "TWILIO_AUTH_TOKEN": DEV_AUTH_TOKEN,
            "TWILIO_ACCOUNT_SID": "AC" + "0" * 32,
            "TWILIO_API_BASE_URL": f"{HOST_FROM_CONTAINER}:{SERVE_PORT}/_twilio",
            "DYNAMODB_ENDPOINT_URL": DYNAMODB_FROM_CONTAINER,
        },
        # POST /calls answers with the request it would send to Twilio, and calls nobody (no
        # table either: a dry run counts no call).
        "DialOutFunction": {
            "TABLE_NAME": "",
            "PUBLIC_BASE_URL": SAM_LOCAL_URL,
            "TWILIO_SECRET_ARN": "",
            "DIALOUT_DRY_RUN": "true",
            "DIALOUT_CALLER_NUMBER": DIRECT_NUMBER,
            "DIALOUT_ALLOWED_PREFIXES": "+1",
        },
        "AdminFunction": {
            "TABLE_NAME": LOCAL_TABLE,
            "PIN_PEPPER_SECRET_ARN": "",
            "PIN_PEPPER": DEV_PIN_PEPPER,
            "DYNAMODB_ENDPOINT_URL": DYNAMODB_FROM_CONTAINER,
        },
    }


def _dump(path: Path, data: Any) -> None:
    path.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n", encoding="utf-8")


def write(directory: Path = EVENTS_DIR) -> list[Path]:
    written = []
    for name, event in build_events().items():
        path = directory / f"{name}.json"
        _dump(path, event)
        written.append(path)
    _dump(directory / "env.json", env_json())
    return [*written, directory / "env.json"]


def main() -> None:
    for path in write():
        print(path.relative_to(ROOT))


if __name__ == "__main__":
    main()

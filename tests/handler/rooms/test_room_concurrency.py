"""Room callbacks of one room arriving together, as Lambda runs them: several execution
environments, each its own RoomEventsApp and boto3 client, against one table served by moto's
ThreadedMotoServer (HTTP, so the writes of different environments really interleave).

moto's server applies each request to an item without a lock of its own (its update_item reads,
checks and changes the item in Python, and reads it again to answer); DynamoDB applies each
request to an item atomically.
The ``atomic_requests`` fixture gives moto that guarantee, one request at a time, and no more:
a read and a later write of one callback are still two requests, as on DynamoDB.
"""

from __future__ import annotations

import functools
import json
import random
import threading
import urllib.request
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import boto3
import pytest
from botocore.config import Config
from moto.dynamodb.responses import DynamoHandler
from moto.server import ThreadedMotoServer
from support.callers import DIRECT, INCOMING, post
from support.rooms import ACCOUNT, ROOM_SID, SCHEDULED, CallsApi, calls_api, room_callback, room_events_app
from support.twilio_fake import Error, FakeTwilio
from support.twiml import parse, said, verbs
from support.voice import TABLE, Clock, local_settings

from dialin.core.config import Settings
from dialin.core.keys import PHONE_ONLY
from dialin.edge.credentials import Credentials
from dialin.rooms.events import RoomEventsApp, RoomEventsSettings
from dialin.rooms.state import IN_PROGRESS, PRUNE_AFTER_MS, Room
from dialin.speech import messages
from dialin.voice.app import VoiceApp
from dialin_tools.commands.room.cli import room_sid as room_sid_of
from dialin_tools.commands.serve.seed import load_seed
from dialin_tools.lib import template as tpl
from dialin_tools.lib.apigw import DEV_AUTH_TOKEN, DEV_PIN_PEPPER

ROOM = "DailyStandup"
ENVIRONMENTS = 8
BUSY = Error(429, 20429, "Too Many Requests")
# Generous timeouts: 8 environments share 2 cores with the server.
SERVER_CLIENT = Config(connect_timeout=10, read_timeout=30, retries={"total_max_attempts": 1})


def sid(n: int) -> str:
    return "CA" + f"{n:032d}"


@pytest.fixture
def atomic_requests(monkeypatch: pytest.MonkeyPatch) -> None:
    """One DynamoDB request at a time, its answer built included (moto reads the item again
    to answer an UpdateItem's ReturnValues)."""
    lock = threading.Lock()
    original = DynamoHandler.call_action

    @functools.wraps(original)
    def locked(self: DynamoHandler) -> Any:
        with lock:
            return original(self)

    monkeypatch.setattr(DynamoHandler, "call_action", locked)


@pytest.fixture
def server(atomic_requests: None) -> Iterator[str]:
    """moto in server mode on a free port, stopped at the end."""
    running = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    running.start()
    host, port = running.get_host_and_port()
    endpoint = f"http://{host}:{port}"
    try:
        yield endpoint
    finally:  # moto's backends outlive the server: leave none of this test's tables behind
        reset = urllib.request.Request(f"{endpoint}/moto-api/reset", method="POST")  # noqa: S310 - local
        urllib.request.urlopen(reset, timeout=30).close()  # noqa: S310 - the local moto server
        running.stop()


@dataclass
class Stack:
    session: boto3.Session
    endpoint: str
    client: Any
    clock: Clock
    api: CallsApi
    voice: VoiceApp
    warm: list[RoomEventsApp] = field(default_factory=list)

    def environment(self) -> RoomEventsApp:
        """One execution environment: its own app, caches and client (its own connections)."""
        client = self.session.client("dynamodb", endpoint_url=self.endpoint, config=SERVER_CLIENT)
        return room_events_app(client, self.clock, self.api)

    def environments(self) -> list[RoomEventsApp]:
        """ENVIRONMENTS of them, kept warm between deliveries (as Lambda keeps containers)."""
        while len(self.warm) < ENVIRONMENTS:
            self.warm.append(self.environment())
        return self.warm

    def room(self) -> Room:
        item = self.client.get_item(
            TableName=TABLE,
            Key={"pk": {"S": f"ROOM#{ACCOUNT}#{ROOM}"}, "sk": {"S": "STATE"}},
            ConsistentRead=True,
        )["Item"]
        return Room.from_item(item)

    def dial(self, n: int) -> ET.Element:
        return parse(post(self.voice.handle, INCOMING, call_sid=sid(n), To=DIRECT, From=f"+1415555{n:04d}"))


@pytest.fixture
def stack(
    server: str, template: dict[str, Any], clock: Clock, boto_session: boto3.Session
) -> Iterator[Stack]:
    client = boto_session.client("dynamodb", endpoint_url=server, config=SERVER_CLIENT)
    tpl.create_table(client, template, TABLE)
    load_seed(client, TABLE, DEV_PIN_PEPPER)
    settings = local_settings()
    voice = VoiceApp.on_table(settings, client, Credentials(settings), clock=clock)
    with calls_api() as api:
        yield Stack(boto_session, server, client, clock, api, voice)


def identity_of(root: ET.Element) -> str:
    room = root.find("Connect/Room")
    assert room is not None, verbs(root)
    return room.get("participantIdentity") or ""


def deliver_at_once(stack: Stack, events: list[dict[str, Any]]) -> list[int]:
    """Each callback handled by one of ENVIRONMENTS environments, all at once; the status codes."""
    apps = stack.environments()
    locks = [threading.Lock() for _ in apps]  # an environment runs one invocation at a time
    start = threading.Barrier(ENVIRONMENTS)

    def run(worker: int) -> list[int]:
        start.wait()
        codes = []
        for event in events[worker::ENVIRONMENTS]:
            with locks[worker]:
                codes.append(apps[worker].handle(event)["statusCode"])
        return codes

    with ThreadPoolExecutor(max_workers=ENVIRONMENTS) as pool:
        return [code for codes in pool.map(run, range(ENVIRONMENTS)) for code in codes]


def test_fifty_participants_connecting_at_once_over_eight_environments_are_all_stored(stack: Stack):
    """35 phone callers (the bridge let them in) and 15 on video connect in the same second;
    the 36th phone caller is held; a freed place goes to the longest-waiting caller."""
    at = stack.clock.now
    assert stack.environment().handle(room_callback("room-created", ROOM, at))["statusCode"] == 200
    phones = {identity_of(stack.dial(n)): sid(n) for n in range(1, 36)}
    videos = [f"guest-{n:02d}-" + "v" * 100 for n in range(15)]
    events = [
        room_callback("participant-connected", ROOM, at + 1 + n / 1000, i) for n, i in enumerate(phones)
    ]
    events += [
        room_callback("participant-connected", ROOM, at + 1.5 + n / 1000, i) for n, i in enumerate(videos)
    ]
    random.Random(17).shuffle(events)  # noqa: S311 - a reproducible order, not a secret
    codes = deliver_at_once(stack, events)
    assert codes == [200] * 50, f"{codes.count(500)} of 50 callbacks lost"
    room = stack.room()
    assert room.in_progress and room.room_sid == ROOM_SID
    assert room.phone == phones and room.seen == phones
    assert set(room.others) == set(videos) and set(room.times) == set(phones) | set(videos)
    assert room.version == 51  # every event counted once
    # The 36th phone caller is held (the room is full), and the 37th and 38th after them.
    for n in (36, 37, 38):
        stack.clock.now += 1
        held = stack.dial(n)
        assert verbs(held) == ["Say", "Pause", "Redirect"] and messages.MEETING_FULL in said(held)
    assert stack.api.updates() == []
    # One phone leg leaves while 14 other callbacks come in at that moment: the place it freed
    # goes to the longest-waiting caller, and to nobody else.
    first = next(iter(phones))
    events = [room_callback("participant-disconnected", ROOM, at + 9, first)]
    events += [room_callback("participant-connected", ROOM, at + 9, f"late-{n}") for n in range(14)]
    assert deliver_at_once(stack, events) == [200] * 15
    assert [s for s, _ in stack.api.updates()] == [sid(36)]
    assert len(stack.room().phone) == 34
    phones.pop(first)
    videos += [f"late-{n}" for n in range(14)]
    # Everyone leaves at once: nobody is left, and nothing else changed.
    leaving = [
        room_callback("participant-disconnected", ROOM, at + 60 + n / 1000, i) for n, i in enumerate(phones)
    ]
    leaving += [room_callback("participant-disconnected", ROOM, at + 61, i) for i in videos]
    random.Random(18).shuffle(leaving)  # noqa: S311 - a reproducible order
    assert deliver_at_once(stack, leaving) == [200] * len(leaving)
    after = stack.room()
    assert after.phone == {} and after.others == {} and after.in_progress and len(after.seen) == 35


def test_out_of_order_delivery_ends_right(stack: Stack):
    """Each identity's disconnect is delivered before its own (older) connect, all at once."""
    at = stack.clock.now
    apps = stack.environment()
    assert apps.handle(room_callback("room-created", ROOM, at))["statusCode"] == 200
    assert apps.handle(room_callback("participant-connected", ROOM, at + 1, "host"))["statusCode"] == 200
    phones = [identity_of(stack.dial(n)) for n in range(1, 11)]
    events = []
    for n, identity in enumerate([*phones, "guest"]):
        events.append(room_callback("participant-disconnected", ROOM, at + 20 + n, identity))
        events.append(room_callback("participant-connected", ROOM, at + 10 + n, identity))
    assert deliver_at_once(stack, events) == [200] * len(events)
    room = stack.room()
    assert room.phone == {} and set(room.others) == {"host"}  # no ghost left behind
    assert all(room.times[i] == (at + 20 + n) * 1000 for n, i in enumerate([*phones, "guest"]))
    # A connect older than that identity's disconnect is stale, even delivered alone.
    assert apps.handle(room_callback("participant-connected", ROOM, at + 15, "guest"))["statusCode"] == 200
    assert "guest" not in stack.room().others


# The phone-only sweep: a hang-up that failed keeps the room listed.

OTHER = "AC" + "f" * 32  # an account with credentials: rooms of ACCOUNT have none here


def listed(client: Any) -> list[str]:
    page = client.query(
        TableName=TABLE,
        KeyConditionExpression="pk = :pk",
        ExpressionAttributeValues={":pk": {"S": PHONE_ONLY}},
    )
    return [item["sk"]["S"] for item in page["Items"] if "due" in item]


@pytest.fixture
def refusing_api() -> Iterator[FakeTwilio]:
    """The suite's Twilio fake, taking the other account's login; ``call_answers`` makes it
    answer 429 (Twilio's 20429) to a CallSid."""
    with FakeTwilio(logins={(OTHER, DEV_AUTH_TOKEN)}) as twilio:
        yield twilio


def phone_only_room(
    app: RoomEventsApp, twilio: FakeTwilio, account: str, name: str, calls: list[str], at: int
) -> None:
    """A room where the host left at ``at`` (ms) and ``calls`` remain, listed as the callbacks
    list it; Twilio knows the same (its Video API lists the phone legs connected)."""
    phone = {f"phone-{n}": call for n, call in enumerate(calls)}
    room_sid = room_sid_of(account, name)
    room = Room(account, name, IN_PROGRESS, room_sid, at - 60_000, phone, {}, dict(phone), {}, at, 5)
    app.table.client.put_item(TableName=TABLE, Item=room.to_item(2_000_000_000))
    app.table.list_phone_only(account, name, at // 1000 + 120, at, 2_000_000_000)
    told = {"AccountSid": account, "RoomName": name, "RoomSid": room_sid}
    twilio.video.observe({**told, "StatusCallbackEvent": "room-created"})
    for identity in phone:
        twilio.video.observe(
            {**told, "StatusCallbackEvent": "participant-connected", "ParticipantIdentity": identity}
        )


def test_a_failed_hang_up_keeps_the_room_listed_and_one_account_without_credentials_stops_nothing(
    dynamodb: Any, clock: Clock, refusing_api: FakeTwilio
):
    twilio = refusing_api
    url = twilio.url
    env = {"TABLE_NAME": TABLE, "TWILIO_AUTH_TOKEN": DEV_AUTH_TOKEN, "PIN_PEPPER": DEV_PIN_PEPPER}
    settings = Settings.from_env({**env, "TWILIO_ACCOUNT_SID": OTHER})
    options = RoomEventsSettings(phone_only_seconds=120, api_base_url=url)
    app = RoomEventsApp.on_table(settings, dynamodb, Credentials(settings), options=options, clock=clock)
    at = int(clock.now * 1000)
    phone_only_room(app, twilio, ACCOUNT, "NoCredentials", [sid(1)], at)  # whichever place the run starts at
    phone_only_room(app, twilio, OTHER, "Busy", [sid(2), sid(3)], at)
    phone_only_room(app, twilio, OTHER, "Fine", [sid(4)], at)
    twilio.call_answers[sid(3)] = BUSY
    clock.now += 121
    assert app.handle(SCHEDULED) == {"ended": 1}
    hung_up = sorted(call for call, _ in twilio.updates())
    assert hung_up == [sid(2), sid(3), sid(4)]
    asked = sorted(r.path for r in twilio.video_reads())  # who is connected, once per room with credentials
    assert asked == sorted(f"/v1/Rooms/{room_sid_of(OTHER, n)}/Participants" for n in ("Busy", "Fine"))
    assert listed(dynamodb) == [f"{ACCOUNT}#NoCredentials", f"{OTHER}#Busy"]
    twilio.call_answers.clear()
    clock.now += 60
    assert app.handle(SCHEDULED) == {"ended": 1}  # Busy: its calls ended this time
    assert listed(dynamodb) == [f"{ACCOUNT}#NoCredentials"]  # tried again every run


def test_the_room_state_stays_small_however_many_identities_come_and_go(
    rooms: Callable[[dict[str, Any]], dict[str, Any]], dynamodb: Any, clock: Clock
):
    """Identities of 128 characters come and go, one every 20 s for 20 minutes: only those of the
    last PRUNE_AFTER_MS stay (the item used to keep every one: past about 2,870 it passed
    DynamoDB's 400 KB and every join failed)."""
    assert rooms(room_callback("room-created", ROOM, clock.now))["statusCode"] == 200
    for n in range(60):
        identity = f"{n:04d}-" + "x" * 123
        clock.now += 20
        assert rooms(room_callback("participant-connected", ROOM, clock.now, identity))["statusCode"] == 200
        assert (
            rooms(room_callback("participant-disconnected", ROOM, clock.now + 1, identity))["statusCode"]
            == 200
        )
    key = {"pk": {"S": f"ROOM#{ACCOUNT}#{ROOM}"}, "sk": {"S": "STATE"}}
    item = dynamodb.get_item(TableName=TABLE, Key=key)["Item"]
    room = Room.from_item(item)
    assert len(room.times) <= PRUNE_AFTER_MS // 20_000 + 1 and room.pruned_before > 0
    assert set(room.seen) <= set(room.times) and len(json.dumps(item)) < 10_000
    # A late connect of a forgotten identity, older than what was forgotten, is stale.
    late = room_callback("participant-connected", ROOM, clock.now - 700, "0000-" + "x" * 123)
    assert rooms(late)["statusCode"] == 200
    assert (
        "0000-" + "x" * 123 not in Room.from_item(dynamodb.get_item(TableName=TABLE, Key=key)["Item"]).others
    )

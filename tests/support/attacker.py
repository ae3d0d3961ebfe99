"""The attacker's side: calls that guess PINs against the real voice handler (moto), the
lookups and writes they cause, and the simulated campaign of tests/attacks."""

from __future__ import annotations

import heapq
import math
import random
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from dialin.admin.specs import make_pin_spec
from dialin.admin.table import Admin
from dialin.core.records import Route
from dialin.edge.credentials import Credentials
from dialin.guard.budgets import ATTESTED_VERSTAT
from dialin.guard.forgiveness import typos
from dialin.speech import messages
from dialin.voice.app import VoiceApp
from dialin_tools.commands.serve.handlers import load_handler
from dialin_tools.lib.apigw import DEV_PIN_PEPPER
from support.callers import INCOMING, gather_action, twilio_post
from support.routes import api_route
from support.twiml import parse, said, verbs
from support.voice import TABLE, Clock, Handler, local_settings

PIN_NUMBERS = ("+15555550101", "+15555550102", "+15555550103")
LIVE_PINS = 200  # the attack tier's stack (tests/attacks/conftest.py)


def add_pin_numbers(client: Any) -> None:
    for number in PIN_NUMBERS:
        item = Route(number=number, mode="pin", room="", attempts=3).to_item()
        client.put_item(TableName=TABLE, Item=item)


def add_live_pins(client: Any, clock: Clock, count: int) -> list[str]:
    """``count`` live unscoped PINs of the default length over 20 rooms; their PINs."""
    admin = Admin(client, TABLE, DEV_PIN_PEPPER, clock=clock)
    return [admin.add_pin(make_pin_spec(f"Room{n % 20}", now=clock.now)).pin for n in range(count)]


def even_odds_guesses(live_pins: int, digits: int) -> float:
    """Guesses for even odds (the median) with ``live_pins`` of the ``9 * 10**(digits-1)``
    codes (no leading zero): ``ln 2 * S / k``, about ``0.69 * S / k``."""
    codes = 9 * 10 ** (digits - 1)
    return math.log(2) * codes / live_pins


def voice_handler_with(client: Any, clock: Clock, monkeypatch: Any, **env: Any) -> Handler:
    """The real functions/voice/app.py handler on ``client``, with these settings."""
    settings = local_settings(**env)
    app = VoiceApp.on_table(settings, client, Credentials(settings), clock=clock)
    route = api_route("/voice/incoming")
    module, _ = load_handler(route.code_dir, route.handler)
    monkeypatch.setattr(module, "voice", app)
    return Handler(module, app)


@dataclass
class Table:
    """DynamoDB operations as botocore sends them: PIN lookups are the attacker's guesses."""

    seen: list[tuple[str, dict[str, Any]]] = field(default_factory=list)

    def __call__(self, model: Any, params: dict[str, Any], **_: Any) -> None:
        self.seen.append((model.name, params))

    def lookups(self) -> int:
        """PIN reads (the PIN step's BatchGetItem with the caller's counters). A read the
        counters then refuse is counted too: the measured guesses can only be more."""
        return sum(1 for name, params in self.seen for key in _keys(name, params) if key[:4] == "PIN#")

    def writes(self) -> int:
        return sum(1 for name, _ in self.seen if name == "UpdateItem")

    def refunds(self) -> int:
        """Refunds tried (``FailureCounters.refund``: typos forgiven), one per counter."""
        return sum(
            1
            for name, params in self.seen
            if name == "UpdateItem" and "forgiven :k" in params["UpdateExpression"]
        )


def _keys(name: str, params: dict[str, Any]) -> list[str]:
    if name == "GetItem":
        return [params["Key"]["pk"]["S"]]
    if name == "BatchGetItem":
        return [key["pk"]["S"] for spec in params["RequestItems"].values() for key in spec["Keys"]]
    return []


def watch(client: Any) -> Table:
    table = Table()
    client.meta.events.register("before-parameter-build.dynamodb", table)
    return table


def caller_params(caller: str, to: str, attested: bool) -> dict[str, str]:
    params = {"From": caller, "To": to}
    if attested:
        params["StirVerstat"] = ATTESTED_VERSTAT
    return params


def call_in(handler: Handler, caller: str, to: str, attested: bool = False, sid: str = "") -> ET.Element:
    params = caller_params(caller, to, attested)
    return parse(handler(twilio_post(INCOMING, call_sid=sid or "CA" + "a" * 32, **params)))


def enter(
    handler: Handler,
    root: ET.Element,
    caller: str,
    to: str,
    digits: str,
    attested: bool = False,
    sid: str = "",
) -> ET.Element:
    params = caller_params(caller, to, attested)
    event = twilio_post(gather_action(root), call_sid=sid or "CA" + "a" * 32, Digits=digits, **params)
    return parse(handler(event))


def fail_call(handler: Handler, caller: str, to: str, attested: bool = False, guesses: int = 3) -> ET.Element:
    """One call entering up to ``guesses`` wrong PINs; the last answer."""
    root = call_in(handler, caller, to, attested)
    for _ in range(guesses):
        if "Gather" not in verbs(root):
            break
        root = enter(handler, root, caller, to, "1" * 10, attested)
    return root


def is_slow_path(root: ET.Element) -> bool:
    return verbs(root) == ["Say", "Pause", "Gather"] and said(root).startswith(messages.SLOW_PATH)


# The campaign: lines that dial and guess as fast as the flow lets them, on a simulated clock.

SECONDS_PER_GUESS = 12  # the prompt, ten digits and #, Twilio's request
SECONDS_PER_SETUP = 5  # dialing, ringing, the first webhook
# A refused call ("try again later", "locked out") gives no guess however soon the line
# redials; redialing sooner only costs the simulation time.
REDIAL_AFTER_REFUSAL = 600


@dataclass
class Campaign:
    """``lines`` parallel lines, each call from a fresh spoofed unattested number, or from
    one of ``lines`` attested numbers the attacker owns (one per line). With ``own_pin`` (a
    valid PIN the attacker holds) each call's last attempt of several is that PIN (wrong,
    wrong, own PIN, and again: the pattern forgiveness must not refund); with ``farm`` too,
    the other attempts are typos of it (forgiven, and never a code outside its typos)."""

    handler: Handler
    clock: Clock
    lines: int
    attested: bool
    seed: int = 1
    own_pin: str = ""
    farm: bool = False
    calls: int = 0
    joined: int = 0  # joined with a PIN the attacker guessed
    own_entries: int = 0  # entered its own PIN (looked up, and joined its own room)
    slow_calls: int = 0
    refused_calls: int = 0
    codes: set[str] = field(default_factory=set)  # every wrong code entered
    stagger: float = 0.5  # seconds between the lines' first calls (0: a burst at the window's start)
    redial_after: int = REDIAL_AFTER_REFUSAL

    def run(self, hours: float) -> None:
        rng = random.Random(self.seed)  # noqa: S311 - a reproducible attacker, not a secret
        start = self.clock.now
        end = start + hours * 3600
        queue = [(start + line * self.stagger, line) for line in range(self.lines)]
        heapq.heapify(queue)
        while queue:
            at, line = heapq.heappop(queue)
            if at >= end:
                continue
            self.clock.now = at
            duration = self._call(line, rng)
            heapq.heappush(queue, (at + duration, line))

    def _caller(self, line: int, rng: random.Random) -> str:
        if self.attested:
            return f"+1646555{line:04d}"
        return f"+1{rng.randrange(201, 989)}{rng.randrange(2_000_000, 9_999_999)}"

    def _call(self, line: int, rng: random.Random) -> float:
        self.calls += 1
        start = self.clock.now
        caller, to = self._caller(line, rng), PIN_NUMBERS[self.calls % len(PIN_NUMBERS)]
        sid = f"CA{self.calls:032x}"
        root = call_in(self.handler, caller, to, self.attested, sid)
        elapsed = SECONDS_PER_SETUP
        if "Gather" not in verbs(root):
            self.refused_calls += 1
            return elapsed + self.redial_after
        if is_slow_path(root):
            self.slow_calls += 1
            elapsed += int(root.find("Pause").get("length"))
        while "Gather" in verbs(root):
            elapsed += SECONDS_PER_GUESS
            self.clock.now = start + elapsed
            guess = self._entry(root, rng)
            root = enter(self.handler, root, caller, to, guess, self.attested, sid)
            if guess == self.own_pin:
                break
            self.codes.add(guess)
            if root.find("Connect/Room") is not None:
                self.joined += 1
                break
        return elapsed

    def _entry(self, root: ET.Element, rng: random.Random) -> str:
        if self.own_pin:
            state = dict(parse_qsl(urlsplit(gather_action(root)).query))
            if state["a"] == state["m"] != "1":  # a last attempt of several: the PIN it holds
                self.own_entries += 1
                return self.own_pin
            if self.farm:
                return rng.choice(sorted(typos(self.own_pin)))
        return str(rng.randrange(10**9, 10**10))

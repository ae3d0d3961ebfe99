"""Every key of the one DynamoDB table (``pk`` and ``sk``, both strings), in one place.

The data modules build their keys here and nowhere else; ``PARTITIONS`` lists every kind of
item with the functions that write and read it. ``tests/infra/test_keys.py`` checks this
registry against the ``dynamodb:LeadingKeys`` conditions of template.yaml (no stale pattern,
every writer allowed its keys, no function allowed keys it does not write) and against the
key table of docs/data.md. A placeholder ``<...>`` stands for the variable part of a key.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

Key = dict[str, dict[str, str]]

# Partition keys: prefixes end in "#", the rest are fixed keys.
ROUTE = "ROUTE#"
PIN = "PIN#"
FAIL = "FAIL#"
FAIL_NUMBER = "FAIL#NUMBER#"
FAIL_STACK = "FAIL#STACK"
RATE_DIALOUT = "RATE#DIALOUT"
ROOMS = "ROOMS#"
ROOM = "ROOM#"
CALLS = "CALLS#"
# Rooms with callers held before they started, for the sweep's check. Under CALLS# because the
# voice function may add CALLS# items only; an AccountSid starts "AC", so never a room's calls.
# Spread over HELD_SHARDS partitions: every held caller of a crowd writes one.
HELD = "CALLS#HELD#"
HELD_SHARDS = 8
PHONE_ONLY = "PHONEONLY"
ROOM_PINS = "ROOMPINS#"
IDEMPOTENCY = "IDEMPOTENCY#"

# Sort keys.
ROUTE_SK = "ROUTE"
PIN_SK = "PIN"
CALLER_SK = "CALLER"
CALLER_NUMBER_SK = "CALLER_NUMBER"
# A caller's long-window counter beside its own (same pk): DAY after the counter's sk.
DAY_SUFFIX = "_DAY"
ATTESTED_SK = "ATTESTED"
NUMBER_SK = "NUMBER"
STACK_SK = "STACK"
REFUND_SK = "REFUND"
RATE_SK = "RATE"
ACCOUNT_SK = "ACCOUNT"
STATE_SK = "STATE"
IDEMPOTENCY_SK = "IDEMPOTENCY"

# The functions, by their folder in functions/ (template.yaml's CodeUri).
VOICE = "voice"
ROOM_EVENTS = "room_events"
DIAL_OUT = "dial_out"
ADMIN = "admin"


@dataclass(frozen=True)
class Partition:
    """One kind of item: its keys as docs/data.md spells them, and which functions touch it."""

    pk: str
    sk: str
    item: str
    writers: tuple[str, ...]  # put, update or delete it
    readers: tuple[str, ...] = ()  # get, query or batch-read it

    @property
    def prefix(self) -> str:
        """The fixed start of every ``pk`` of this kind (the whole key when it is fixed)."""
        return self.pk.split("<", 1)[0]


_ROOM_KEY = "<AccountSid>#<room>"
PARTITIONS = (
    Partition(f"{ROUTE}<number>", ROUTE_SK, "route of a dialed number", (ADMIN,), (VOICE, ADMIN)),
    Partition(f"{PIN}<HMAC(PIN)>", PIN_SK, "PIN grant", (ADMIN, ROOM_EVENTS), (VOICE, ADMIN)),
    # The admin function reads and deletes a caller's own counters (GET/DELETE /admin/lockouts).
    Partition(
        f"{FAIL}<HMAC(From)>", CALLER_SK, "failures of an attested caller", (VOICE, ADMIN), (VOICE, ADMIN)
    ),
    Partition(
        f"{FAIL}<HMAC(From To)>",
        CALLER_NUMBER_SK,
        "failures of a caller on a number",
        (VOICE, ADMIN),
        (VOICE, ADMIN),
    ),
    Partition(
        f"{FAIL}<HMAC(From)>",
        CALLER_SK + DAY_SUFFIX,
        "failures of an attested caller in 24 h",
        (VOICE, ADMIN),
        (VOICE, ADMIN),
    ),
    Partition(
        f"{FAIL}<HMAC(From To)>",
        CALLER_NUMBER_SK + DAY_SUFFIX,
        "failures of a caller on a number in 24 h",
        (VOICE, ADMIN),
        (VOICE, ADMIN),
    ),
    # The admin's grant on a caller's counters (FAIL# and 64 characters) covers it too.
    Partition(f"{FAIL}<HMAC(CallSid)>", REFUND_SK, "a call's typo refund (once)", (VOICE, ADMIN)),
    Partition(f"{FAIL_NUMBER}<HMAC(To)>", NUMBER_SK, "failure budget of a number", (VOICE,), (VOICE,)),
    Partition(FAIL_STACK, STACK_SK, "failure budget of the stack", (VOICE,), (VOICE,)),
    Partition(FAIL_STACK, ATTESTED_SK, "attested callers' failure budget", (VOICE,), (VOICE,)),
    Partition(RATE_DIALOUT, RATE_SK, "dial-out calls this hour", (DIAL_OUT,)),
    Partition(f"{ROOMS}<AccountSid>", ACCOUNT_SK, "account sending room callbacks", (ROOM_EVENTS,), (VOICE,)),
    Partition(f"{ROOM}{_ROOM_KEY}", STATE_SK, "room state", (ROOM_EVENTS,), (VOICE, ROOM_EVENTS, ADMIN)),
    # The admin moves and removes phone legs (admin.callers): their items follow the call.
    Partition(
        f"{CALLS}{_ROOM_KEY}",
        "<CallSid>",
        "phone leg let at a room",
        (VOICE, ROOM_EVENTS, ADMIN),
        (ROOM_EVENTS, ADMIN),
    ),
    Partition(
        f"{HELD}<shard>",
        _ROOM_KEY,
        "room with callers held before it started",
        (VOICE, ROOM_EVENTS, ADMIN),
        (ROOM_EVENTS,),
    ),
    Partition(PHONE_ONLY, _ROOM_KEY, "room with only phone legs left", (ROOM_EVENTS,), (ROOM_EVENTS,)),
    Partition(
        f"{ROOM_PINS}<room>",
        f"{PIN}<HMAC(PIN)>",
        "room membership of a PIN",
        (ADMIN, ROOM_EVENTS),
        (ADMIN, ROOM_EVENTS),
    ),
    Partition(f"{IDEMPOTENCY}<SHA-256(key)>", IDEMPOTENCY_SK, "idempotency record", (ADMIN,), (ADMIN,)),
)


def key(pk: str, sk: str) -> Key:
    return {"pk": {"S": pk}, "sk": {"S": sk}}


def route_key(number: str) -> Key:
    return key(f"{ROUTE}{number}", ROUTE_SK)


def pin_key(pin_hash: str) -> Key:
    return key(f"{PIN}{pin_hash}", PIN_SK)


def caller_counter_key(digest: str) -> Key:
    """An attested caller's counter: ``digest`` is HMAC(pepper, From)."""
    return key(f"{FAIL}{digest}", CALLER_SK)


def caller_number_counter_key(digest: str) -> Key:
    """Any other caller's counter on one number: ``digest`` is HMAC(pepper, From + " " + To)."""
    return key(f"{FAIL}{digest}", CALLER_NUMBER_SK)


def refund_key(digest: str) -> Key:
    """A call's refund of its typos, written once: ``digest`` is HMAC(pepper, "refund " + CallSid)."""
    return key(f"{FAIL}{digest}", REFUND_SK)


def number_budget_key(digest: str) -> Key:
    """``digest`` is HMAC(pepper, To)."""
    return key(f"{FAIL_NUMBER}{digest}", NUMBER_SK)


def stack_budget_key() -> Key:
    return key(FAIL_STACK, STACK_SK)


def attested_budget_key() -> Key:
    """The stack-wide budget of attested callers' failures."""
    return key(FAIL_STACK, ATTESTED_SK)


def day_counter_key(own: Key) -> Key:
    """A caller's 24-hour counter, beside its own counter ``own`` (attested or on a number)."""
    return key(own["pk"]["S"], own["sk"]["S"] + DAY_SUFFIX)


def dial_out_rate_key() -> Key:
    return key(RATE_DIALOUT, RATE_SK)


def account_key(account: str) -> Key:
    return key(f"{ROOMS}{account}", ACCOUNT_SK)


def room_key(account: str, room: str) -> Key:
    return key(f"{ROOM}{account}#{room}", STATE_SK)


def calls_pk(account: str, room: str) -> str:
    return f"{CALLS}{account}#{room}"


def call_key(account: str, room: str, call_sid: str) -> Key:
    return key(calls_pk(account, room), call_sid)


def held_pk(shard: int) -> str:
    return f"{HELD}{shard}"


def held_key(account: str, room: str) -> Key:
    """A room's held-callers listing: its shard is fixed by the room (SHA-256 of its key)."""
    shard = hashlib.sha256(f"{account}#{room}".encode()).digest()[0] % HELD_SHARDS
    return key(held_pk(shard), f"{account}#{room}")


def phone_only_key(account: str, room: str) -> Key:
    return key(PHONE_ONLY, f"{account}#{room}")


def split_phone_only(sk: str) -> tuple[str, str]:
    """(AccountSid, room) of a phone-only item's sort key: an AccountSid has a fixed length."""
    return sk[:34], sk[35:]


def room_pins_pk(room: str) -> str:
    return f"{ROOM_PINS}{room}"


def membership_key(room: str, pin_hash: str) -> Key:
    return key(room_pins_pk(room), f"{PIN}{pin_hash}")


def idempotency_key(digest: str) -> Key:
    """``digest`` is the hex SHA-256 of the client's idempotency key."""
    return key(f"{IDEMPOTENCY}{digest}", IDEMPOTENCY_SK)

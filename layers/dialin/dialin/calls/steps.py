"""State carried between webhook steps in our own URLs.

Twilio signs the full URL it requests, query string included, so these values come back
covered by the signature and cannot be altered by a caller. They never hold the PIN.
Query strings are built with sorted keys and ``quote``, one of the forms the signature
check rebuilds from a REST API event.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from urllib.parse import quote

from ..core.errors import BadState
from ..core.records import MAX_ATTEMPTS, MAX_PHONE_LIMIT
from ..core.validation import is_xml_text, name_problem
from ..guard.forgiveness import is_failure_hash

PIN_STEP = "/voice/pin"
WAIT_STEP = "/voice/wait"
CONFIRM_STEP = "/voice/confirm"
# The query keys are one letter each, to keep step URLs short (Twilio logs them, and inline
# TwiML for a Calls API update is capped at 4,000 characters):
#   a  PIN attempt being made (from 1)        m  PIN attempts allowed
#   p  identity policy for guests             r  room name
#   i  participant identity                   t  when the <Connect> is expected to start
#   s  when the caller first tried to join    n  wait loops so far
#   v  <Say> voice                            l  <Say> language
#   o  the route has prompts of its own       g  1: the PIN may be spoken
#   h  1: back from a hold, not a fall-through  c  phone places the route allows (room-aware joining)
#   b  an early PIN's window opens then       w  1: the account sends room callbacks
#   k  1: the caller was attested (dialin.guard.budgets)
#   d  not before: the slow path's pause ends   x  expires: the PIN step is refused after
#   f  this call's failed PINs, as keyed hashes  e  when the first of them was counted
#      (dialin.guard.forgiveness: never a PIN)


def query_pairs(values: Mapping[str, object]) -> list[tuple[str, str]]:
    """The state's parameters as our step URLs carry them: sorted, empty values left out."""
    return [(key, str(value)) for key, value in sorted(values.items()) if value not in (None, "")]


def single_values(pairs: Iterable[tuple[str, str]]) -> dict[str, str]:
    """The step's state from exactly the pairs the signature covered. A key given twice with
    the same value is that value; with two values it is refused (which one Twilio meant is
    not ours to guess, and API Gateway's single-value map would keep only the last)."""
    values: dict[str, str] = {}
    for key, value in pairs:
        if values.get(key, value) != value:
            raise BadState(f"{key[:8]} is repeated")
        values[key] = value
    return values


def canonical_query(values: Mapping[str, object]) -> str:
    return "&".join(f"{quote(key, safe='')}={quote(value, safe='')}" for key, value in query_pairs(values))


def _int_in_range(query: Mapping[str, str], key: str, default: int, low: int, high: int) -> int:
    try:
        value = int(query.get(key, default))
    except (TypeError, ValueError) as exc:
        raise BadState(f"{key} is not a number") from exc
    if not low <= value <= high:
        raise BadState(f"{key} is out of range")
    return value


def _flag(query: Mapping[str, str], key: str) -> bool:
    return query.get(key, "") == "1"


@dataclass(frozen=True)
class Speech:
    """How prompts are said: voice, language (which picks the catalogue), and whether the
    route has texts of its own. Those texts are not carried (URLs stay short): a step that
    sees ``custom`` reads them from the route into ``prompts``."""

    voice: str = ""
    language: str = ""
    custom: bool = False
    prompts: Mapping[str, str] = field(default_factory=dict, compare=False)

    def query(self) -> dict[str, str]:
        return {"v": self.voice, "l": self.language, "o": "1" if self.custom else ""}

    @classmethod
    def from_query(cls, query: Mapping[str, str]) -> Speech:
        voice, language = query.get("v", "")[:64], query.get("l", "")[:16]
        if not (is_xml_text(voice) and is_xml_text(language)):
            raise BadState("speech settings TwiML cannot carry")
        return cls(voice=voice, language=language, custom=_flag(query, "o"))


@dataclass(frozen=True)
class PinState:
    attempt: int  # the attempt being made, from 1
    max_attempts: int
    speech: Speech
    caller_policy: str = ""
    spoken: bool = False  # <Gather input="dtmf speech">: the PIN may be said
    aware: bool = False  # the account sends room status callbacks
    cap: int = 0  # the route's phone limit; 0: Twilio's
    attested: bool = False
    not_before: int = 0  # epoch seconds; 0: at once
    expires: int = 0  # epoch seconds; 0: never (only URLs made before expiry existed)
    failed: tuple[str, ...] = ()  # keyed hashes of this call's counted failures, never a PIN
    failed_since: int = 0  # epoch seconds: when the first of them was counted

    def with_failure(self, failure_hash: str, now: int) -> PinState:
        """The state once this attempt's failure is counted (the next step may forgive it)."""
        return replace(self, failed=(*self.failed, failure_hash), failed_since=self.failed_since or now)

    def query(self) -> dict[str, object]:
        return {
            "a": self.attempt,
            "f": ".".join(self.failed),
            "e": self.failed_since or "",
            "m": self.max_attempts,
            "p": self.caller_policy,
            "g": "1" if self.spoken else "",
            "w": 1 if self.aware else "",
            "c": self.cap or "",
            "k": 1 if self.attested else "",
            "d": self.not_before or "",
            "x": self.expires or "",
            **self.speech.query(),
        }

    @classmethod
    def from_query(cls, query: Mapping[str, str]) -> PinState:
        max_attempts = _int_in_range(query, "m", 3, 1, MAX_ATTEMPTS)
        return cls(
            attempt=_int_in_range(query, "a", 1, 1, max_attempts),
            max_attempts=max_attempts,
            speech=Speech.from_query(query),
            caller_policy=query.get("p", "")[:32],
            spoken=_flag(query, "g"),
            aware=_int_in_range(query, "w", 0, 0, 1) == 1,
            cap=_int_in_range(query, "c", 0, 0, MAX_PHONE_LIMIT),
            attested=_int_in_range(query, "k", 0, 0, 1) == 1,
            not_before=_int_in_range(query, "d", 0, 0, 2**40),
            expires=_int_in_range(query, "x", 0, 0, 2**40),
            failed=_failed(query, max_attempts),
            failed_since=_int_in_range(query, "e", 0, 0, 2**40),
        )


def _failed(query: Mapping[str, str], max_attempts: int) -> tuple[str, ...]:
    value = query.get("f", "")
    failed = tuple(value.split(".")) if value else ()
    if len(failed) > max_attempts or not all(is_failure_hash(item) for item in failed):
        raise BadState("f is malformed")
    return failed


@dataclass(frozen=True)
class WaitState:
    room: str
    identity: str
    connected_at: int  # when the <Connect> is expected to start, epoch seconds
    since: int  # when the caller first tried to join
    loops: int
    speech: Speech
    held: bool = False  # the step follows a hold, not a fall-through from <Connect>
    cap: int = 0  # 0: Twilio's own limit of phone participants
    not_before: int = 0  # epoch seconds; 0: none
    aware: bool = False  # the account sends room status callbacks

    def query(self) -> dict[str, object]:
        return {
            "r": self.room,
            "i": self.identity,
            "t": self.connected_at,
            "s": self.since,
            "n": self.loops,
            "h": 1 if self.held else "",
            "c": self.cap or "",
            "b": self.not_before or "",
            "w": 1 if self.aware else "",
            **self.speech.query(),
        }

    @classmethod
    def from_query(cls, query: Mapping[str, str]) -> WaitState:
        room, identity = query.get("r", ""), query.get("i", "")
        problem = name_problem(room, "room") or name_problem(identity, "identity")
        if problem:
            raise BadState(problem)
        return cls(
            room=room,
            identity=identity,
            connected_at=_int_in_range(query, "t", 0, 0, 2**40),
            since=_int_in_range(query, "s", 0, 0, 2**40),
            loops=_int_in_range(query, "n", 0, 0, 10_000),
            speech=Speech.from_query(query),
            held=_int_in_range(query, "h", 0, 0, 1) == 1,
            cap=_int_in_range(query, "c", 0, 0, MAX_PHONE_LIMIT),
            not_before=_int_in_range(query, "b", 0, 0, 2**40),
            aware=_int_in_range(query, "w", 0, 0, 1) == 1,
        )


def _names(query: Mapping[str, str]) -> tuple[str, str]:
    room, identity = query.get("r", ""), query.get("i", "")
    problem = name_problem(room, "room") or name_problem(identity, "identity")
    if problem:
        raise BadState(problem)
    return room, identity


@dataclass(frozen=True)
class ConfirmState:
    """A dial-out leg asked to press 1 before it joins ``room`` as ``identity``."""

    room: str
    identity: str
    since: int  # when the call was placed
    speech: Speech
    expires: int = 0  # epoch seconds: refused after (0: never, URLs made before expiry existed)

    def query(self) -> dict[str, object]:
        query: dict[str, object] = {
            "r": self.room,
            "i": self.identity,
            "s": self.since,
            **self.speech.query(),
        }
        return {**query, "x": self.expires} if self.expires else query

    @classmethod
    def from_query(cls, query: Mapping[str, str]) -> ConfirmState:
        room, identity = _names(query)
        since = _int_in_range(query, "s", 0, 0, 2**40)
        expires = _int_in_range(query, "x", 0, 0, 2**40)
        return cls(
            room=room, identity=identity, since=since, speech=Speech.from_query(query), expires=expires
        )


@dataclass(frozen=True)
class Urls:
    """Absolute URLs of our own steps, under the same base the signature check uses."""

    base: str

    def pin(self, state: PinState) -> str:
        return f"{self.base}{PIN_STEP}?{canonical_query(state.query())}"

    def wait(self, state: WaitState) -> str:
        return f"{self.base}{WAIT_STEP}?{canonical_query(state.query())}"

    def confirm(self, state: ConfirmState) -> str:
        return f"{self.base}{CONFIRM_STEP}?{canonical_query(state.query())}"

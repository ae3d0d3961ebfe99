"""The voice webhooks: check the signature, read one record, run the flow, answer TwiML.

Every answer a caller can reach is a 200 with polite TwiML, except a bad signature (403).
The fallback route (the number's fallback URL) answers before any of that: it reads no
secret and no table, so it still answers when they are what failed.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from twilio.twiml.voice_response import VoiceResponse

from ..calls import verbs
from ..calls.call import Call, Limits
from ..calls.steps import ConfirmState, PinState, Speech, Urls, WaitState, single_values
from ..core.config import Settings
from ..core.errors import BadRequest, BadState
from ..core.identity import caller_identity, grant_identity
from ..core.pins import hash_pin, looks_like_pin
from ..core.records import DIRECT, LAST_DIGITS, Route
from ..core.validation import mask_number
from ..dialout import flow as dialout_flow
from ..edge import faults
from ..edge.apigateway import (
    FormParams,
    form_params,
    lower_headers,
    public_base_url,
    route_path,
    signed_query_pairs,
)
from ..edge.credentials import Credentials
from ..edge.http import forbidden, not_found, twiml
from ..edge.observability import count, count_by, logger
from ..edge.signature import signed_params
from ..guard.budgets import Guard, is_attested
from ..guard.defences import Caller, Defences, daily, policies
from ..guard.forgiveness import failure_hash
from ..guard.lockout import FailureCounters, LockoutPolicy, dialed_label
from ..rooms import flow as room_flow
from ..rooms.state import account_key
from ..speech import messages
from . import flow
from .directory import Directory
from .pin_guard import PinGuard, caller_of, counter
from .room_aware import RoomSteps
from .status import record_status

IDEMPOTENCY_HEADER = "i-twilio-idempotency-token"
ANSWERED, BUDGET_SPENT = "call answered", "failure budget spent"
# The first step's outcomes (``voice.flow``): the metric each counts, and its log line.
INCOMING_OUTCOMES: dict[str, tuple[str, bool, str]] = {  # (metric, a warning, message)
    flow.UNKNOWN_NUMBER: ("UnknownNumbers", False, "unknown number"),
    flow.LOCKED_OUT: ("LockedOutCalls", True, "caller locked out"),
    flow.BUDGET_SLOWED: ("BudgetSlowedCalls", True, BUDGET_SPENT),
    flow.BUDGET_REFUSED: ("BudgetRefusedCalls", True, BUDGET_SPENT),
    flow.CONNECTED: ("Connects", False, ANSWERED),
    flow.PIN_ASKED: ("", False, ANSWERED),
}
# Faults that end in "temporarily unavailable" rather than an error the caller would hear.
SERVICE_FAULTS = faults.SERVICE_FAULTS


def _spoken_as(query: Mapping[str, str]) -> Speech:
    """A later step's language and voice, from its signed URL, for a fault's goodbye (the
    route's own texts are not read again: the table may be what failed)."""
    try:
        return Speech.from_query(query)
    except BadState:
        return verbs.DEFAULT_SPEECH


@dataclass
class VoiceApp:
    settings: Settings
    directory: Directory
    credentials: Credentials
    # Failed-PIN counters (dialin.guard.lockout), in the same table; written only on a failed PIN.
    counters: FailureCounters
    clock: Callable[[], float] = field(default=time.time)
    limits: Limits = field(init=False)
    lockout: LockoutPolicy = field(init=False)
    defences: Defences = field(init=False)
    guard: PinGuard = field(init=False)
    rooms: RoomSteps = field(init=False)

    def __post_init__(self) -> None:
        self.limits = Limits(
            pin_attempts=self.settings.default_pin_attempts,
            max_wait_seconds=self.settings.max_wait_seconds,
            hold_seconds=self.settings.hold_seconds,
            slow_path_seconds=self.settings.slow_path_seconds,
            hold_music_seconds=self.settings.hold_music_seconds,
        )
        self.lockout, budgets = policies(self.settings)
        self.defences = Defences(self.counters, self.lockout, budgets, daily(self.settings.daily_failures))
        self.guard = PinGuard(self.defences, lambda: self.credentials.pepper())
        self.rooms = RoomSteps(self.directory, self.limits, self.settings.hold_music_url)

    @classmethod
    def on_table(
        cls,
        settings: Settings,
        client: Any,
        credentials: Credentials,
        clock: Callable[[], float] = time.time,
    ) -> VoiceApp:
        """The app on the table named in ``settings``, read and counted through one client."""
        table = settings.table_name
        return cls(settings, Directory(client, table), credentials, FailureCounters(client, table), clock)

    def handle(self, event: Mapping[str, Any]) -> dict[str, Any]:
        path = route_path(event)
        unsigned = UNSIGNED_STEPS.get(path)
        if unsigned is not None:
            return twiml(unsigned(self, event))
        step = STEPS.get(path)
        if step is None:
            return not_found()
        try:
            params = signed_params(event, self.credentials.auth_tokens_for, self.settings.public_base_url)
        except SERVICE_FAULTS as exc:
            # Without the token nothing can be verified; the answer reveals nothing either.
            return self._unavailable("credentials", exc)
        if params is None:
            return forbidden()

        call = Call(
            sid=params.get("CallSid"),
            from_number=params.get("From"),
            to_number=params.get("To"),
            digits=params.get("Digits"),
            speech=params.get("SpeechResult"),
            status=params.get("CallStatus"),
            duration=params.get("CallDuration"),
            direction=params.get("Direction"),
            sip_response_code=params.get("SipResponseCode"),
            verstat=params.get("StirVerstat"),
            request_token=lower_headers(event).get(IDEMPOTENCY_HEADER, "")[:128],
            account=params.get("AccountSid"),
        )
        logger.set_correlation_id(call.sid or None)
        urls = Urls(public_base_url(event, self.settings.public_base_url))
        query: dict[str, str] = {}
        try:
            if path not in URL_AS_CONFIGURED:
                query = single_values(signed_query_pairs(event))
            response = step(self, call, query, urls)
        except SERVICE_FAULTS as exc:
            return self._unavailable(step.__name__, exc, _spoken_as(query))
        except Exception:  # never let the caller hear "an application error has occurred"
            logger.exception("unexpected error", extra={"step": step.__name__})
            count("Errors")
            return twiml(verbs.unavailable(_spoken_as(query)))
        return twiml(response)

    def _unavailable(
        self, where: str, exc: Exception, speech: Speech = verbs.DEFAULT_SPEECH
    ) -> dict[str, Any]:
        faults.report(where, exc)
        return twiml(verbs.unavailable(speech))

    # Steps. Each makes one read (one round trip); a failed PIN adds one counter update.

    def incoming(self, call: Call, query: Mapping[str, str], urls: Urls) -> VoiceResponse:
        count("Calls")
        now = self.clock()
        # The caller's counter, the budgets that apply to it and the account's room-callback
        # marker are read in the same BatchGetItem as the route, so a locked-out caller is
        # never asked for a PIN. A failure that sets a lock mid-call is told at once by the
        # PIN step (the counter update returns the new count); it never reads the counters.
        caller = Caller(call.from_number, call.to_number, is_attested(call.from_number, call.verstat))
        keys = [*caller.keys(self.credentials.pepper()), account_key(call.account)]
        route, items = self.directory.route_and_counters(call.to_number, keys)
        found = items.pop()
        guard = self.defences.guard(caller, [counter(item, "incoming") for item in items], now)
        if route is not None and route.account and route.account != call.account:
            route = None  # another account's number: as if unknown
        log = {"step": "incoming", "to": mask_number(call.to_number), "from": mask_number(call.from_number)}
        aware = bool(found)
        room_aware = route is not None and route.mode == DIRECT and (aware or bool(self.rooms.music))
        answered = {**log, "mode": route.mode if route else "", "attested": caller.attested}
        if room_aware and route is not None:
            logger.info("call answered", extra=answered)  # the room-aware path counts its own
            return self._join_direct(call, route, aware, urls, now)
        answer = flow.incoming(call, route, urls, now, self.limits, guard=guard, aware=aware)
        metric, warning, message = INCOMING_OUTCOMES[answer.outcome]
        if metric:
            count(metric)
        extra = {**log, "gate": guard.gate.value} if message == BUDGET_SPENT else log
        (logger.warning if warning else logger.info)(
            message, extra=answered if message == ANSWERED else extra
        )
        return answer.twiml

    def _join_direct(self, call: Call, route: Route, aware: bool, urls: Urls, now: float) -> VoiceResponse:
        """A direct number, room-aware (the account sends room callbacks, or hold music plays)."""
        text = route.greeting or messages.CONNECTING
        identity = caller_identity(route.identity_policy, call.from_number, call.sid)
        speech, cap = verbs.speech_of(route), route.phone_limit or 0
        start = int(now) + verbs.heard_seconds(text, speech)
        state = WaitState(route.room, identity, start, start, 0, speech, cap=cap, aware=aware)
        return self.rooms.join(call, state, aware, urls, now, text)

    def pin(self, call: Call, query: Mapping[str, str], urls: Urls) -> VoiceResponse:
        state = PinState.from_query(query)
        if state.speech.custom:
            state = replace(state, speech=self._route_prompts(state.speech, call))
        call = flow.with_spoken_pin(call, state)
        now = self.clock()
        if state.expires and now > state.expires:
            count("PinStepsExpired")
            logger.warning("pin step expired", extra={"step": "pin", "attempt": state.attempt})
            return flow.pin_step_expired(state).twiml
        grant, before = self._lookup(call, state, now)
        if before is not None and self.guard.refuses(before):
            count("BudgetRefusedCalls" if not before.locked else "LockedOutCalls")
            logger.warning("pin not looked up", extra={"step": "pin", "gate": before.gate.value})
            return flow.pin_entered(call, state, None, urls, now, guard=before).twiml
        aware = state.aware and grant is not None
        window = room_flow.pin_window(grant, call.to_number, now, self.settings.max_wait_seconds)
        if grant is not None and window in (room_flow.OPEN, room_flow.EARLY):
            self.guard.forgive(call, state)
            return self._admit(call, state, grant, window, aware, urls, now)
        if window == room_flow.LATE:
            count("LatePins")
            logger.info("pin entered", extra={"step": "pin", "attempt": state.attempt, "window": window})
            return verbs.goodbye(messages.PIN_EXPIRED, state.speech)
        guard = Guard(attested=state.attested)
        if not flow.pin_accepted(call, grant, now):
            # Counted before the counter write, so a throttled write still shows in the alarm.
            count("PinFailures")
            count_by("PinFailuresByNumber", "DialedNumber", dialed_label(call.to_number))
            if call.digits:  # silence is no guess: only entered digits count towards the lock
                guard = self.guard.count_failure(call, state, int(now))
                typo = failure_hash(self.credentials.pepper(), call.sid, call.digits)
                state = state.with_failure(typo, int(now))  # forgiven if a typo of the PIN that matches
        answer = flow.pin_entered(call, state, grant, urls, now, guard=guard)
        accepted = answer.outcome == flow.CONNECTED
        if accepted:
            count("Connects")
        logger.info(
            "pin entered",
            extra={
                "step": "pin",
                "attempt": state.attempt,
                "accepted": accepted,
                "entered": bool(call.digits),
                "locked": guard.locked,
                "gate": guard.gate.value,
                "outcome": answer.outcome,
            },
        )
        return answer.twiml

    def _lookup(self, call: Call, state: PinState, now: float) -> tuple[Any, Guard | None]:
        """The entered PIN's grant and the caller's counters, in one BatchGetItem: the guard
        decides before the grant is used. Before the slow path's pause has passed (only a
        scripted request can be early), nothing is read: a wrong PIN without a lookup."""
        if now < state.not_before or not looks_like_pin(call.digits, self.settings.min_pin_length):
            return None, None
        pepper = self.credentials.pepper()
        keys = caller_of(call, state).keys(pepper)
        grant, items = self.directory.pin_and_counters(hash_pin(pepper, call.digits), keys)
        if grant is not None and not grant.of_account(call.account, self.settings.twilio_accounts):
            grant = None  # another tenant's PIN: unknown on this tenant's calls, a wrong PIN
        return grant, self.guard.before_lookup(call, state, items, now)

    def _admit(
        self, call: Call, state: PinState, grant: Any, window: str, aware: bool, urls: Urls, now: float
    ) -> VoiceResponse:
        """A PIN that is valid now (join) or opens within MaxWaitSeconds (wait for it)."""
        logger.info("pin entered", extra={"step": "pin", "attempt": state.attempt, "accepted": True})
        identity = grant_identity(grant, state.caller_policy or LAST_DIGITS, call.from_number, call.sid)
        text = messages.PIN_ACCEPTED
        start = int(now) + verbs.heard_seconds(text, state.speech)
        if window == room_flow.EARLY:
            opens = int(grant.valid_from)
            wait = WaitState(
                grant.room,
                identity,
                start,
                opens,
                0,
                state.speech,
                cap=state.cap,
                not_before=opens,
                aware=aware,
            )
            return self.rooms.early(call, wait, aware, urls, now)
        if not aware and not self.rooms.music:
            count("Connects")
            return flow.pin_entered(call, state, grant, urls, now).twiml
        wait = WaitState(grant.room, identity, start, start, 0, state.speech, cap=state.cap, aware=aware)
        return self.rooms.join(call, wait, aware, urls, now, text)

    def fallback(self, event: Mapping[str, Any]) -> VoiceResponse:
        """The number's fallback URL: Twilio calls it when the voice URL failed. Unsigned
        (checking needs the token, which may be what failed), so it says only the same
        polite message as any fault and touches no secret and no table."""
        count("FallbackAnswered")
        logger.warning("fallback answered", extra={"step": "fallback", "error_code": _error_code(event)})
        return verbs.unavailable()

    def wait(self, call: Call, query: Mapping[str, str], urls: Urls) -> VoiceResponse:
        state = WaitState.from_query(query)
        if state.speech.custom:
            state = replace(state, speech=self._route_prompts(state.speech, call))
        return self.rooms.wait(call, state, urls, self.clock())

    def confirm(self, call: Call, query: Mapping[str, str], urls: Urls) -> VoiceResponse:
        """A dial-out callee's answer to "press 1 to join" (no key: Twilio posts no Digits)."""
        state = ConfirmState.from_query(query)
        confirmed = call.digits == dialout_flow.CONFIRM_KEY
        count("DialOutConfirmed" if confirmed else "DialOutNotConfirmed")
        logger.info(
            "dial-out confirmed" if confirmed else "dial-out not confirmed",
            extra={"step": "confirm", "to": mask_number(call.to_number), "key_pressed": bool(call.digits)},
        )
        return dialout_flow.dial_out_confirmed(call, state, urls, self.clock())

    def _route_prompts(self, speech: Speech, call: Call) -> Speech:
        """A route with prompts of its own: its texts (read again, by the dialed number:
        the step URLs carry only a flag, to stay short)."""
        route = self.directory.route(call.to_number)
        return replace(speech, prompts=route.prompts if route else {})

    def status(self, call: Call, query: Mapping[str, str], urls: Urls) -> VoiceResponse:
        """Status callback of inbound numbers and dial-out legs: record how the leg ended."""
        record_status(call)
        return VoiceResponse()


STEPS: dict[str, Callable[..., VoiceResponse]] = {
    "/voice/incoming": VoiceApp.incoming,
    "/voice/pin": VoiceApp.pin,
    "/voice/wait": VoiceApp.wait,
    "/voice/status": VoiceApp.status,
    "/voice/confirm": VoiceApp.confirm,
}
# Steps at the URLs configured on a number (voice URL, status callback), which carry no
# state of ours: their query string is the operator's, signed but never read, so whatever
# it holds (a key given twice) cannot break them.
URL_AS_CONFIGURED = frozenset({"/voice/incoming", "/voice/status"})
# Routes answered without a signature check, secrets or table.
UNSIGNED_STEPS: dict[str, Callable[..., VoiceResponse]] = {
    "/voice/fallback": VoiceApp.fallback,
}


def _error_code(event: Mapping[str, Any]) -> str:
    """Twilio's ErrorCode from a fallback request (unsigned: kept only if it looks like one)."""
    try:
        code = form_params(event).get("ErrorCode")
    except BadRequest:
        return ""
    return code if code.isascii() and code.isdigit() and len(code) <= 6 else ""


__all__ = ["STEPS", "UNSIGNED_STEPS", "FormParams", "VoiceApp"]

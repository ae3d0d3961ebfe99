"""What Twilio's answer about a room means for the phone-only sweep: pure, no table and no
Twilio here (``sweep`` asks, ``edge.video`` reads the answer).

The callbacks are what the bridge knows; Twilio's participants list is what is true. A room is
phone-only only if every participant Twilio says is connected is a phone leg of the bridge: an
identity the callbacks recorded as a phone leg (``Room.phone``), or one the bridge let join
(a joining ``CALLS#`` item: its connect callback may be what was lost). Anyone else is someone
on video whose connect callback never arrived.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from ..edge.video import Participant
from .state import JOINING, Room, WaitingCall


def phone_legs(room: Room, calls: Iterable[WaitingCall]) -> dict[str, str]:
    """Identity -> CallSid of each phone leg the bridge knows for this room: the legs it let
    join (the latest per identity), then those the callbacks confirmed (their CallSid wins)."""
    legs = {
        call.identity: call.call_sid
        for call in sorted(calls, key=lambda c: (c.since_ms, c.call_sid))
        if call.status == JOINING
    }
    return {**legs, **room.phone}


@dataclass(frozen=True)
class Verdict:
    """What to do with a phone-only room once Twilio has said who is connected."""

    hang_up: tuple[str, ...] = ()  # CallSids: the phone legs Twilio says are in the room
    others: tuple[Participant, ...] = ()  # connected, and no phone leg: the room is not phone-only


def judge(room: Room, calls: Iterable[WaitingCall], connected: Iterable[Participant]) -> Verdict:
    """Hang up only the phone legs Twilio says are connected, and nobody at all if anyone else
    is (a leg the state still lists but Twilio does not has left the room already)."""
    legs = phone_legs(room, calls)
    present = list(connected)
    others = tuple(p for p in present if p.identity not in legs)
    if others:
        return Verdict(others=others)
    return Verdict(hang_up=tuple(dict.fromkeys(legs[p.identity] for p in present)))

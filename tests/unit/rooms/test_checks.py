"""What Twilio's participants list means for a phone-only room (dialin.rooms.checks)."""

from __future__ import annotations

from dialin.edge.video import Participant
from dialin.rooms.checks import Verdict, judge, phone_legs
from dialin.rooms.state import IN_PROGRESS, JOINING, WAITING, Room, WaitingCall

ACCOUNT = "AC" + "0" * 32


def sid(n: int) -> str:
    return "CA" + f"{n:032d}"


ROOM = Room(ACCOUNT, "Board", IN_PROGRESS, "RM" + "1" * 32, phone={"phone-1": sid(1), "phone-2": sid(2)})


def call(n: int, identity: str, status: str = JOINING, since: int = 0) -> WaitingCall:
    return WaitingCall(ACCOUNT, "Board", sid(n), identity, since or n, status)


def connected(*identities: str) -> list[Participant]:
    return [Participant(identity, 1_000) for identity in identities]


def test_the_phone_legs_are_those_confirmed_and_those_let_join():
    calls = [call(3, "phone-3"), call(4, "phone-4", WAITING), call(5, "phone-1"), call(6, "phone-3", since=9)]
    # A waiting call's identity is someone else (on video); the callbacks' CallSid wins; the
    # latest leg let join under one identity is the one in the room.
    assert phone_legs(ROOM, calls) == {"phone-3": sid(6), "phone-1": sid(1), "phone-2": sid(2)}


def test_only_phone_legs_connected_are_hung_up_and_those_gone_are_left_alone():
    assert judge(ROOM, [], connected("phone-2")) == Verdict(hang_up=(sid(2),))
    assert judge(ROOM, [call(3, "phone-3")], connected("phone-1", "phone-3")) == Verdict(
        hang_up=(sid(1), sid(3))
    )


def test_anyone_else_connected_means_nobody_is_hung_up():
    verdict = judge(ROOM, [call(4, "guest", WAITING)], connected("phone-1", "guest"))
    assert verdict == Verdict(others=(Participant("guest", 1_000),))  # and nobody to hang up


def test_nobody_connected_is_nobody_to_hang_up():
    assert judge(ROOM, [], []) == Verdict()

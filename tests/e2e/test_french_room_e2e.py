"""A French room-aware number end to end through `dialin serve`: held, full, moved, removed
and left alone with phone callers only, every word in French and in the route's voice.

Its own `dialin serve`, whose phone-only rule ends a room a few seconds after the last video
participant leaves, checked every second (the template's schedule, run faster).
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from support.processes import Running
from support.served import Served, dialin_serve, room

from dialin.speech.catalogues import fr
from dialin_tools import cli

NUMBER = "+15555550180"
WAIT = "90"  # seconds a call waits or stays: a bound, not an expectation


@pytest.fixture(scope="module")
def served() -> Iterator[Served]:
    with dialin_serve(PHONE_ONLY_SECONDS="8", DIALIN_SCHEDULE_SECONDS="1") as running:
        yield running


def hears(text: str) -> str:
    return re.escape(f"hears (Polly.Lea, fr-FR): {text}")


def spoken(out: str) -> list[str]:
    return [line.strip() for line in out.splitlines() if line.strip().startswith("hears")]


def test_a_french_caller_hears_french_held_full_moved_and_left_alone(served: Served):
    add = ["route", "add", NUMBER, "--room", "Salle", "--language", "fr-FR", "--phone-limit", "1"]
    assert cli.main([*add, "--local", "--endpoint-url", served.dynamodb]) == 0
    room(served, "end", "Salle")  # the stack now receives room callbacks
    first = Running.start(
        "call", "--url", served.url, "--to", NUMBER, "--wait-for-move", WAIT, "--stay", WAIT
    )
    first.read(hears(fr.TEXTS["CONNECTING"] + " " + fr.TEXTS["NOT_STARTED"]))  # held: not started
    room(served, "start", "Salle")
    room(served, "join", "Salle", "host-video")  # someone on video
    identity = first.read(r"joins room Salle as (phone-0123-\w+)").group(1)  # moved by the Calls API

    second = Running.start(
        "call",
        "--url",
        served.url,
        "--to",
        NUMBER,
        "--from",
        "+14155550999",
        "--wait-for-move",
        WAIT,
        "--stay",
        WAIT,
    )
    second.read(hears(fr.TEXTS["CONNECTING"] + " " + fr.TEXTS["MEETING_FULL"]))  # held: full
    room(served, "leave", "Salle", identity)  # the host removes the first caller
    code, removed = first.finish()
    assert code == 0, removed  # joined, then removed
    assert f"Joined room Salle as {identity}, then left it" in removed
    assert "moved by the Calls API" in removed
    sid = re.search(r"^CallSid (CA[0-9a-f]{32}) ", removed, re.M)  # printed, to find it in the log
    assert sid is not None, removed
    served.read(re.compile(rf"POST /voice/incoming 200 \d+ ms {sid.group(1)}$"), 5)
    assert spoken(removed)[-1] == f"hears (Polly.Lea, fr-FR): {fr.TEXTS['SESSION_ENDED']}", removed

    second.read(r"joins room Salle as phone-0999-")  # the freed place goes to the held caller
    room(served, "leave", "Salle", "host-video")  # only the phone caller is left
    code, out = second.finish()
    assert "moved by the Calls API" in out
    assert spoken(out)[-1] == f"hears (Polly.Lea, fr-FR): {fr.TEXTS['EVERYONE_LEFT']}", out
    served.read(re.compile(r"schedule PhoneOnlyCheck \(RoomEventsFunction\): \{'ended': 1\}"), 30)
    every = spoken(removed) + spoken(out)
    assert len(every) == 4 and all(line.startswith("hears (Polly.Lea, fr-FR): ") for line in every), every

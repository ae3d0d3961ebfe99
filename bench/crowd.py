"""`make crowd`: many rooms starting at once, each with a full class of phone callers.

Through `dialin serve` (its functions in several execution environments each, free ports,
the embedded DynamoDB), against a stand-in for Twilio's REST API started here that answers
429 (20429) above a concurrency you set, as Twilio limits an account's concurrent requests:

1. ROOMS direct numbers, one per room; the account is told to send room callbacks.
2. Every room's CALLERS phone callers dial in and are held (the room has not started); one
   caller more per room (the 36th with the defaults) dials in last. Each held caller follows
   its hold document in real time: when its <Pause>s (and <Play>s) have run, it requests the
   <Redirect> URL, as Twilio would.
3. All rooms start in the same second, with VIDEO video participants each (the callbacks
   sent at once). The bridge moves its held callers through the stand-in; a call moved to
   <Connect><Room> (or answered so at its next hold webhook) joins, and its
   participant-connected callback is sent, as Twilio sends it.
4. One phone caller leaves each room: the freed place must go to the caller who waited.
5. Each room's state, read back by the runtime's own reader, must hold exactly who is there.

Prints and writes ``bench/results/crowd.json``: callbacks lost or failed, callers who heard
an error, rooms whose state disagrees, the extra caller's fate, join delay p50 and max from
room start (moved or through the hold loop), webhook requests per held caller-minute, and
the Calls API requests (429s included, the most in flight). Exits 1 on any lost callback,
caller error, state mismatch or caller left out; the servers are stopped by their ids.
"""

from __future__ import annotations

import argparse
import heapq
import json
import re
import statistics
import sys
import threading
import time
import xml.etree.ElementTree as ET
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import crowd_twilio
import server

from dialin_tools.lib.apigw import DEV_AUTH_TOKEN  # the documented, obviously fake dev token

ROOT = Path(__file__).resolve().parents[1]
RESULT = ROOT / "bench" / "results" / "crowd.json"
ACCOUNT = "AC" + "c" * 32
UNAVAILABLE = re.compile(r"temporarily unavailable|application error", re.I)


@dataclass
class Caller:
    n: int
    room: str
    number: str
    extra: bool  # the one caller more than the room takes
    sid: str = ""
    state: str = "new"  # held | joined | left | error
    identity: str = ""
    how: str = ""  # moved | hold
    held_at: float = 0.0
    joined_at: float = 0.0
    redirect: str = ""
    webhooks: int = 0  # hold-loop requests
    problem: str = ""


@dataclass
class Crowd:
    base: str
    twilio: crowd_twilio.StandIn
    workers: ThreadPoolExecutor
    callers: dict[str, Caller] = field(default_factory=dict)
    started: dict[str, float] = field(default_factory=dict)  # room -> when its room-created was sent
    callbacks: dict[int, int] = field(default_factory=dict)  # HTTP status -> count
    lock: threading.Lock = field(default_factory=threading.Lock)
    due: list[tuple[float, str]] = field(default_factory=list)  # (monotonic, CallSid) hold loop
    stop: threading.Event = field(default_factory=threading.Event)

    # Requests, signed as Twilio signs them

    def webhook(self, url: str, params: dict[str, str]) -> tuple[int, str]:
        return crowd_twilio.post(url, params, DEV_AUTH_TOKEN)

    def call_params(self, caller: Caller) -> dict[str, str]:
        from_ = f"+1415{caller.n:07d}"
        return {
            "AccountSid": ACCOUNT,
            "CallSid": caller.sid,
            "CallStatus": "in-progress",
            "Direction": "inbound",
            "From": from_,
            "Caller": from_,
            "To": caller.number,
            "Called": caller.number,
        }

    def callback(self, action: str, room: str, identity: str = "") -> None:
        from dialin_tools.commands.room.cli import callback_params

        params = callback_params(action, room, identity, ACCOUNT, time.time())
        self.twilio.video.observe(params)  # Twilio knows, whether or not the callback arrives
        status, _ = self.webhook(f"{self.base}/video/status", params)
        with self.lock:
            self.callbacks[status] = self.callbacks.get(status, 0) + 1

    # A caller's webhooks

    def answered(self, caller: Caller, status: int, twiml: str, how: str) -> None:
        if status != 200 or UNAVAILABLE.search(twiml):
            self.fail(caller, f"HTTP {status}: {twiml[:120]}")
            return
        root = ET.fromstring(twiml)  # noqa: S314 - TwiML of our own local server
        room = root.find("Connect/Room")
        if room is not None:
            self.join(caller, room.get("participantIdentity") or "", how)
            return
        redirect = root.find("Redirect")
        if redirect is None or not redirect.text:
            self.fail(caller, f"neither held nor joined: {twiml[:120]}")
            return
        with self.lock:
            if caller.state in ("new", "held"):
                caller.state, caller.redirect = "held", redirect.text
                caller.held_at = caller.held_at or time.monotonic()
                heapq.heappush(self.due, (time.monotonic() + crowd_twilio.seconds_of(root), caller.sid))

    def join(self, caller: Caller, identity: str, how: str) -> None:
        with self.lock:
            if caller.state not in ("new", "held"):
                return  # moved while its hold webhook was in flight: one join
            caller.state, caller.identity, caller.how = "joined", identity, how
            caller.joined_at = time.monotonic()
        self.workers.submit(self.callback, "join", caller.room, identity)

    def fail(self, caller: Caller, problem: str) -> None:
        with self.lock:
            caller.state, caller.problem = "error", problem

    def dial(self, caller: Caller) -> None:
        status, twiml = self.webhook(f"{self.base}/voice/incoming", self.call_params(caller))
        self.answered(caller, status, twiml, "first")

    def hold_step(self, caller: Caller) -> None:
        with self.lock:
            if caller.state != "held":
                return
            caller.webhooks += 1
        status, twiml = self.webhook(caller.redirect, self.call_params(caller))
        self.answered(caller, status, twiml, "hold")

    def hold_loop(self) -> None:
        """Each held caller's next webhook, when its hold document has run."""
        while not self.stop.is_set():
            with self.lock:
                ready = self.due and self.due[0][0] <= time.monotonic()
                sid = heapq.heappop(self.due)[1] if ready else ""
            if sid:
                self.workers.submit(self.hold_step, self.callers[sid])
            else:
                self.stop.wait(0.05)

    def moved(self, sid: str, twiml: str) -> None:
        """The stand-in moved a call: to its room (it joins) or out (hung up)."""
        caller = self.callers.get(sid)
        if caller is None:
            return
        root = ET.fromstring(twiml)  # noqa: S314 - TwiML of our own local server
        room = root.find("Connect/Room")
        if room is not None:
            self.join(caller, room.get("participantIdentity") or "", "moved")

    def wait_until(self, done: Any, seconds: float) -> bool:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if done():
                return True
            time.sleep(0.2)
        return bool(done())


def seed_file(rooms: int, callers: int, folder: Path) -> tuple[Path, list[tuple[str, str]]]:
    """One direct number per room, taking ``callers`` phone callers (Twilio's 35 at most)."""
    numbers = [(f"+1555770{r:04d}", f"Class {r:03d}") for r in range(rooms)]
    routes = [
        {"number": number, "mode": "direct", "room": room, "phone_limit": callers} for number, room in numbers
    ]
    path = folder / "crowd-seed.json"
    path.write_text(json.dumps({"routes": routes, "pins": []}), encoding="utf-8")
    return path, numbers


def run_crowd(args: argparse.Namespace, crowd: Crowd, numbers: list[tuple[str, str]]) -> dict[str, Any]:
    n = 0
    for extra in (False, True):  # every room's class first, then each room's one caller more
        for number, room in numbers:
            for _ in range(1 if extra else args.callers):
                n += 1
                caller = Caller(n, room, number, extra, sid=f"CA{n:032x}")
                crowd.callers[caller.sid] = caller
    # The account sends room callbacks; and the room-events function's environments are
    # started (on Lambda, cold starts run side by side; here they share two cores).
    warm_ups = [("end", f"CrowdWarmUp{w}", "") for w in range(args.environments * 2)]
    list(crowd.workers.map(lambda a: crowd.callback(*a), warm_ups))
    arrival = time.monotonic()
    threading.Thread(target=crowd.hold_loop, daemon=True).start()
    for extra in (False, True):  # the one caller more of each room dials in once its class is held
        list(crowd.workers.map(crowd.dial, [c for c in crowd.callers.values() if c.extra == extra]))
    arrived_s = time.monotonic() - arrival
    time.sleep(args.hold)  # the class waits for its teacher

    start = time.monotonic()
    for _, room in numbers:
        crowd.started[room] = start
    starts = [("start", room, "") for _, room in numbers]
    videos = [("join", room, f"teacher-{v}-{room}") for _, room in numbers for v in range(args.video)]
    list(crowd.workers.map(lambda a: crowd.callback(*a), starts))
    list(crowd.workers.map(lambda a: crowd.callback(*a), videos))
    members = [c for c in crowd.callers.values() if not c.extra]
    everyone_in = crowd.wait_until(lambda: all(c.state not in ("held", "new") for c in members), args.timeout)
    extras = [c for c in crowd.callers.values() if c.extra]
    extra_fate: dict[str, float] = {
        "held while full": sum(c.state == "held" for c in extras),
        "joined while full": sum(c.state == "joined" for c in extras),
    }

    # One phone caller leaves each room: its place goes to the one who waited.
    in_rooms = ([c for c in members if c.room == room and c.state == "joined"] for _, room in numbers)
    leaving = [joined[0] for joined in in_rooms if joined]
    for caller in leaving:
        caller.state = "left"
    freed = time.monotonic()
    list(crowd.workers.map(lambda c: crowd.callback("leave", c.room, c.identity), leaving))
    crowd.wait_until(lambda: all(c.state == "joined" for c in extras), args.timeout)
    extra_fate["joined when a place freed"] = sum(c.state == "joined" for c in extras)
    extra_fate["seconds to join after the place freed (max)"] = round(
        max((c.joined_at - freed for c in extras if c.state == "joined"), default=0.0), 1
    )
    crowd.stop.set()
    time.sleep(1.0)  # the last participant-connected callbacks
    return {
        "arrived_s": round(arrived_s, 1),
        "everyone_in": everyone_in,
        "extra": extra_fate,
        "video": videos,
    }


def check_states(crowd: Crowd, dynamodb: str, numbers: list[tuple[str, str]], video: list[Any]) -> list[str]:
    from dialin.rooms.state import Room
    from dialin_tools.commands.admin.targets import local_client
    from dialin_tools.lib.sample_events import LOCAL_TABLE

    client = local_client(dynamodb)
    wrong = []
    for _, room in numbers:
        key = {"pk": {"S": f"ROOM#{ACCOUNT}#{room}"}, "sk": {"S": "STATE"}}
        item = client.get_item(TableName=LOCAL_TABLE, Key=key, ConsistentRead=True).get("Item")
        state = Room.from_item(item) if item else None
        phones = {c.identity for c in crowd.callers.values() if c.room == room and c.state == "joined"}
        others = {identity for _, r, identity in video if r == room}
        if state is None or set(state.phone) != phones or set(state.others) != others:
            got = (len(state.phone), len(state.others)) if state else None
            wrong.append(f"{room}: stored {got}, sent {(len(phones), len(others))}")
    return wrong


def report(
    args: argparse.Namespace, crowd: Crowd, ran: dict[str, Any], wrong: list[str], seconds: float
) -> dict[str, Any]:
    members = [c for c in crowd.callers.values() if not c.extra]
    joined = [c for c in members if c.joined_at]
    delays = sorted(c.joined_at - crowd.started[c.room] for c in joined)
    held = [c for c in crowd.callers.values() if c.held_at]
    held_minutes = sum(((c.joined_at or time.monotonic()) - c.held_at) / 60 for c in held)
    hold_webhooks = sum(c.webhooks for c in crowd.callers.values())
    lost = sum(count for status, count in crowd.callbacks.items() if status != 200)
    errors = [c for c in crowd.callers.values() if c.state == "error"]
    return {
        "rooms": args.rooms,
        "callers_per_room": args.callers,
        "video_per_room": args.video,
        "environments": args.environments,
        "twilio_concurrency": args.twilio_concurrency,
        "seconds": round(seconds, 1),
        "arrivals_seconds": ran["arrived_s"],
        "callbacks": dict(sorted(crowd.callbacks.items())),
        "callbacks_lost_or_failed": lost,
        "callers_with_an_error": len(errors),
        "first_errors": [c.problem for c in errors[:3]],
        "callers_not_in_their_room": len(members) - len(joined),
        "rooms_whose_state_disagrees": len(wrong),
        "first_mismatches": wrong[:3],
        "extra_caller": ran["extra"],
        "join_delay_s": {
            "p50": round(statistics.median(delays), 1) if delays else None,
            "max": round(delays[-1], 1) if delays else None,
            "moved": sum(c.how == "moved" for c in joined),
            "through_the_hold_loop": sum(c.how == "hold" for c in joined),
        },
        "webhooks_per_held_caller_minute": round(hold_webhooks / held_minutes, 2) if held_minutes else None,
        "calls_api": crowd.twilio.counts(),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rooms", type=int, default=100)
    parser.add_argument("--callers", type=int, default=35, help="phone callers per room (and one more)")
    parser.add_argument("--video", type=int, default=2, help="video participants per room")
    parser.add_argument("--environments", type=int, default=8, help="per function, in dialin serve")
    parser.add_argument("--twilio-concurrency", type=int, default=100, help="the stand-in's 429 threshold")
    parser.add_argument("--twilio-seconds", type=float, default=0.2, help="each accepted request's time")
    parser.add_argument("--clients", type=int, default=48, help="requests the crowd sends at once")
    parser.add_argument("--hold", type=float, default=90.0, help="seconds held before the rooms start")
    parser.add_argument("--timeout", type=float, default=180.0, help="seconds to wait for each phase")
    parser.add_argument("--result", type=Path, default=RESULT, help=f"where to write (default {RESULT.name})")
    args = parser.parse_args(argv)
    command = server.serve_command(ROOT / ".venv" / "bin" / "dialin")
    if command is None:
        print("crowd: .venv/bin/dialin is not installed (make crowd installs it)", file=sys.stderr)
        return 2
    began = time.monotonic()
    folder = args.result.parent
    folder.mkdir(parents=True, exist_ok=True)
    seed, numbers = seed_file(args.rooms, args.callers, folder)
    with crowd_twilio.StandIn(args.twilio_concurrency, args.twilio_seconds) as twilio:
        env = {
            "TWILIO_API_BASE_URL": twilio.url,
            "TWILIO_ACCOUNT_SID": ACCOUNT,
            "TWILIO_AUTH_TOKEN": DEV_AUTH_TOKEN,
            "DIALIN_ENVIRONMENTS": str(args.environments),
        }
        log = folder / "crowd-serve.log"
        serving = server.launched_on_free_ports([*command, "--seed", str(seed)], env, log)
        with serving as (base, dynamodb), ThreadPoolExecutor(max_workers=args.clients) as workers:
            crowd = Crowd(base, twilio, workers)
            twilio.on_update = crowd.moved
            ran = run_crowd(args, crowd, numbers)
            wrong = check_states(crowd, dynamodb, numbers, ran["video"])
    seed.unlink(missing_ok=True)
    result = report(args, crowd, ran, wrong, time.monotonic() - began)
    args.result.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(result, indent=2))
    failed = (
        result["callbacks_lost_or_failed"]
        or result["callers_with_an_error"]
        or result["callers_not_in_their_room"]
        or result["rooms_whose_state_disagrees"]
        or result["extra_caller"]["joined while full"]
        or result["extra_caller"]["joined when a place freed"] != args.rooms
    )
    print(f"crowd: {'FAILED' if failed else 'passed'}; results in {args.result}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

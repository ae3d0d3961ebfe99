"""A caller's failed-PIN counters, as an admin sees them: whether the caller is locked out and
until when, and lifting it. Counter keys hold only HMACs of the numbers, so this is the one
way to find them (it needs the pepper, as the voice function does).

Which counters a caller has (``guard.defences``): one stack-wide for attested calls, and one
per PIN number for every other call. Every withheld number (``anonymous``, ``restricted``,
none) is the one caller ``withheld``, which is never attested. Without a number, every PIN
number of the table is looked at. The per-number and per-stack budgets are shared by every caller and are not
touched here.

Every door uses ``lockout_states`` and ``clear_lockouts``: the CLI on a table (``--local``,
``--stack``) and the admin API (``GET``/``DELETE /admin/lockouts``, the CLI's ``--url``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..core.errors import Invalid
from ..core.keys import day_counter_key
from ..core.records import PIN_MODE
from ..guard.budgets import WITHHELD, caller_of
from ..guard.defences import DAILY_DEFAULT, caller_key
from ..guard.lockout import Counter, LockoutPolicy
from .checks import check_number
from .specs import on
from .table import Admin

ATTESTED = "attested calls, any number"


@dataclass(frozen=True)
class CallerCounter:
    scope: str  # ATTESTED, or the PIN number the unattested calls dialed
    key: dict[str, Any]
    counter: Counter | None
    day: Counter | None = None  # its 24-hour counter beside it (``day_counter_key``)

    def locked_until(
        self, policy: LockoutPolicy, now: float, day: LockoutPolicy = DAILY_DEFAULT
    ) -> int | None:
        """The later of the short lock and the day's, while either holds."""
        ends = [until for until in (policy.locked_until(self.counter), day.locked_until(self.day)) if until]
        return max(ends) if ends and now < max(ends) else None


@dataclass(frozen=True)
class LockoutState:
    """One of a caller's counters as an admin sees it."""

    scope: str  # ATTESTED, or the PIN number the unattested calls dialed
    failures: int  # 0: the caller has no counter there
    locked_until: int | None  # epoch seconds, while the caller is locked out


def check_caller(caller: str, number: str = "") -> None:
    """Refuse a blank or malformed caller or number before anything is read or deleted."""
    if not caller.strip():
        raise Invalid("give the caller's number (E.164), or withheld for hidden numbers", "caller")
    if caller_of(caller) != WITHHELD:
        on("caller", check_number, caller, "caller")
    if number:
        on("number", check_number, number)


def caller_counters(admin: Admin, caller: str, number: str = "") -> list[CallerCounter]:
    """The caller's counters (none read as ``counter=None``): stack-wide, then per number."""
    check_caller(caller, number)
    withheld = caller_of(caller) == WITHHELD  # every hidden number is one caller, never attested
    if number:
        numbers = [number]
    else:
        numbers = sorted(route.number for route in admin.list_routes()[0] if route.mode == PIN_MODE)
    scopes = [] if withheld else [(ATTESTED, caller_key(admin.pepper, caller, "", attested=True))]
    scopes += [(dialed, caller_key(admin.pepper, caller, dialed, attested=False)) for dialed in numbers]
    found = []
    for scope, key in scopes:
        own, day = (_counter(admin, k) for k in (key, day_counter_key(key)))
        found.append(CallerCounter(scope, key, own, day))
    return found


def _counter(admin: Admin, key: dict[str, Any]) -> Counter | None:
    item = admin.client.get_item(TableName=admin.table, Key=key, ConsistentRead=True).get("Item")
    return Counter.from_item(item) if item else None


def clear_counters(admin: Admin, counters: list[CallerCounter]) -> int:
    """Delete the counters that exist; the caller's next call is asked for a PIN again."""
    cleared = 0
    for entry in counters:
        if entry.day is not None:
            admin.client.delete_item(TableName=admin.table, Key=day_counter_key(entry.key))
        if entry.counter is not None or entry.day is not None:
            admin.client.delete_item(TableName=admin.table, Key=entry.key)
            cleared += 1
    return cleared


def lockout_states(admin: Admin, policy: LockoutPolicy, caller: str, number: str = "") -> list[LockoutState]:
    """Whether the caller is locked out on each of its counters, and until when."""
    now = admin.clock()
    return [
        LockoutState(
            entry.scope, entry.counter.failures if entry.counter else 0, entry.locked_until(policy, now)
        )
        for entry in caller_counters(admin, caller, number)
    ]


def clear_lockouts(admin: Admin, caller: str, number: str = "") -> int:
    """Lift the caller's lockout (on one PIN number, or everywhere); the counters deleted."""
    return clear_counters(admin, caller_counters(admin, caller, number))

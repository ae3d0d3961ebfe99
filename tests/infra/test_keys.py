"""The key registry (``dialin.core.keys``) against what must match it by hand: the
``dynamodb:LeadingKeys`` conditions of template.yaml and the key table of docs/data.md."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from dialin.core import keys
from dialin.core.keys import PARTITIONS, Partition
from dialin.guard.defences import caller_key, number_key, stack_key
from dialin_tools.lib.template import ROOT, TABLE_RESOURCE

LEADING_KEYS = "dynamodb:LeadingKeys"
READS = ("dynamodb:GetItem", "dynamodb:BatchGetItem", "dynamodb:Query", "dynamodb:Scan")
WRITES = (
    "dynamodb:PutItem",
    "dynamodb:UpdateItem",
    "dynamodb:DeleteItem",
    "dynamodb:BatchWriteItem",
    "dynamodb:ConditionCheckItem",
)
DOCS = ROOT / "docs" / "data.md"
Row = tuple[str, str, tuple[str, ...], tuple[str, ...]]  # pk, sk, writers, readers


def like(pattern: str, value: str) -> bool:
    """IAM's StringLike: ``*`` any run of characters, ``?`` any one, nothing else special."""
    regex = "".join(".*" if ch == "*" else "." if ch == "?" else re.escape(ch) for ch in pattern)
    return re.fullmatch(regex, value, re.DOTALL) is not None


DIGEST = "0a1b" * 16  # hex SHA-256, as every HMAC and hash of a key is


def sample_pk(partition: Partition) -> str:
    """A partition key of this kind: each ``<placeholder>`` filled in, a digest at its real
    length (the admin function's ``FAIL#`` + 64 ``?`` tells a caller's counter from a budget)."""
    return re.sub(
        r"<([^>]*)>",
        lambda m: DIGEST if m.group(1).startswith(("HMAC(", "SHA-256(")) else "0a1b",
        partition.pk,
    )


def shape(text: str) -> re.Pattern[str]:
    return re.compile("".join(".+" if part.startswith("<") else re.escape(part) for part in _parts(text)))


def _parts(text: str) -> list[str]:
    return [part for part in re.split(r"(<[^>]*>)", text) if part]


@dataclass(frozen=True)
class Grant:
    """One Allow statement on the table: its actions, and its LeadingKeys (None: any key)."""

    sid: str
    actions: tuple[str, ...]
    patterns: tuple[str, ...] | None

    def allows(self, wanted: tuple[str, ...], pk: str) -> bool:
        if not any(like(action, name) for action in self.actions for name in wanted):
            return False
        return self.patterns is None or any(like(pattern, pk) for pattern in self.patterns)


def _listed(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _on_table(resource: Any) -> bool:
    return TABLE_RESOURCE in str(resource) or str(resource) == "*"


def leading_keys(condition: dict[str, Any]) -> tuple[str, ...] | None:
    found = [tuple(_listed(v[LEADING_KEYS])) for v in condition.values() if LEADING_KEYS in v]
    return tuple(p for patterns in found for p in patterns) if found else None


def function_grants(template: dict[str, Any]) -> dict[str, list[Grant]]:
    """The table grants of each function, by its folder in functions/ (its CodeUri)."""
    grants: dict[str, list[Grant]] = {}
    for resource in template["Resources"].values():
        if resource["Type"] != "AWS::Serverless::Function":
            continue
        name = resource["Properties"]["CodeUri"].strip("/").removeprefix("functions/")
        grants[name] = []
        for policy in resource["Properties"].get("Policies", []):
            for statement in policy.get("Statement", []) if isinstance(policy, dict) else []:
                if statement["Effect"] != "Allow" or not any(map(_on_table, _listed(statement["Resource"]))):
                    continue
                actions = tuple(_listed(statement["Action"]))
                patterns = leading_keys(statement.get("Condition", {}))
                grants[name].append(Grant(statement.get("Sid", ""), actions, patterns))
    return grants


def all_leading_keys(node: Any) -> Iterator[str]:
    """Every LeadingKeys pattern anywhere in the template (any policy of any resource)."""
    if isinstance(node, dict):
        for name, value in node.items():
            if name == LEADING_KEYS:
                yield from _listed(value)
            else:
                yield from all_leading_keys(value)
    elif isinstance(node, list):
        for value in node:
            yield from all_leading_keys(value)


def stale(patterns: list[str], partitions: tuple[Partition, ...]) -> list[str]:
    """Patterns that match no registered kind of key."""
    return [p for p in patterns if not any(like(p, sample_pk(part)) for part in partitions)]


def denied(grants: dict[str, list[Grant]], partitions: tuple[Partition, ...]) -> list[str]:
    """What the registry says a function does that its role does not allow."""
    missing = []
    for part in partitions:
        for wanted, verb, functions in ((WRITES, "write", part.writers), (READS, "read", part.readers)):
            for function in functions:
                if not any(g.allows(wanted, sample_pk(part)) for g in grants.get(function, [])):
                    missing.append(f"{function} may not {verb} {part.pk}")
    return missing


def overgranted(grants: dict[str, list[Grant]], partitions: tuple[Partition, ...]) -> list[str]:
    """Keys a function's LeadingKeys (or an unconditioned write) open to it without the
    registry naming it as their writer (or reader). Unconditioned reads are the design: the
    voice function reads routes, PINs and counters in one BatchGetItem; admin lists by Scan."""
    extra = []
    for function, granted in grants.items():
        for grant in granted:
            for part in partitions:
                writes = grant.allows(WRITES, sample_pk(part)) and function not in part.writers
                reads = (
                    grant.patterns is not None
                    and grant.allows(READS, sample_pk(part))
                    and function not in part.readers
                )
                if writes or reads:
                    extra.append(f"{function} {grant.sid} opens {part.pk}")
    return extra


def docs_rows(text: str) -> list[Row]:
    """(pk, sk, writers, readers) of each row of data.md's "Every key" table."""
    section = text.split("\n## Every key\n", 1)[1].split("\n## ", 1)[0]
    rows = []
    for line in section.splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if len(cells) != 5 or not cells[0].startswith("`") or cells[0] == "`pk`":
            continue
        names = [tuple(re.findall(r"`([^`]+)`", cell)) for cell in cells[3:]]
        rows.append((cells[0].strip("`"), cells[1].strip("`"), names[0], names[1]))
    return rows


def registry_rows(partitions: tuple[Partition, ...]) -> list[Row]:
    return [(p.pk, p.sk, p.writers, p.readers) for p in partitions]


def test_every_leading_keys_pattern_in_the_template_names_a_registered_key(template: dict[str, Any]):
    patterns = list(all_leading_keys(template))
    assert len(patterns) >= 10  # the real template's conditions were found
    assert stale(patterns, PARTITIONS) == []


def test_every_function_may_write_and_read_the_keys_the_registry_gives_it(template: dict[str, Any]):
    grants = function_grants(template)
    named = {f for part in PARTITIONS for f in (*part.writers, *part.readers)}
    assert named <= set(grants), "the registry names a function the template lacks"
    assert denied(grants, PARTITIONS) == []


def test_no_function_may_write_keys_the_registry_does_not_give_it(template: dict[str, Any]):
    assert overgranted(function_grants(template), PARTITIONS) == []


def test_every_registered_key_is_fenced_by_some_leading_keys_condition(template: dict[str, Any]):
    """No kind of item is writable only through an unconditioned grant."""
    patterns = list(all_leading_keys(template))
    assert [p.pk for p in PARTITIONS if not any(like(pat, sample_pk(p)) for pat in patterns)] == []


def test_the_docs_key_table_is_the_registry():
    rows = docs_rows(DOCS.read_text(encoding="utf-8"))
    assert sorted(rows) == sorted(registry_rows(PARTITIONS))
    assert len(rows) == len(PARTITIONS)


def test_the_registry_has_one_entry_per_key_shape():
    shapes = [(p.pk, p.sk) for p in PARTITIONS]
    assert len(set(shapes)) == len(shapes)
    assert all(p.writers for p in PARTITIONS)


HEX = "0123456789abcdef" * 4
ACCOUNT = "AC" + "1" * 32
CALL = "CA" + "2" * 32
BUILT = [
    keys.route_key("+15555550100"),
    keys.pin_key(HEX),
    keys.caller_counter_key(HEX),
    keys.caller_number_counter_key(HEX),
    keys.day_counter_key(keys.caller_counter_key(HEX)),
    keys.day_counter_key(keys.caller_number_counter_key(HEX)),
    keys.refund_key(HEX),
    keys.number_budget_key(HEX),
    keys.stack_budget_key(),
    keys.attested_budget_key(),
    keys.dial_out_rate_key(),
    keys.account_key(ACCOUNT),
    keys.room_key(ACCOUNT, "standup"),
    keys.call_key(ACCOUNT, "standup", CALL),
    keys.held_key(ACCOUNT, "standup"),
    keys.phone_only_key(ACCOUNT, "standup"),
    keys.membership_key("standup", HEX),
    keys.idempotency_key(HEX),
]


def test_the_admin_may_delete_a_callers_own_counters_and_never_a_budget(template: dict[str, Any]):
    """GET/DELETE /admin/lockouts: ``FAIL#`` and 64 characters is a caller's counter only."""
    [grant] = [g for g in function_grants(template)["admin"] if g.sid == "ClearCallerLockouts"]
    assert grant.actions == ("dynamodb:DeleteItem",)
    caller, dialed = "+14155550123", "+15555550101"
    own = [caller_key("pepper", caller, dialed, attested=a)["pk"]["S"] for a in (True, False)]
    budgets = [number_key("pepper", dialed)["pk"]["S"], stack_key()["pk"]["S"]]
    assert [grant.allows(("dynamodb:DeleteItem",), pk) for pk in own] == [True, True]
    assert [grant.allows(("dynamodb:DeleteItem",), pk) for pk in budgets] == [False, False]


def test_each_builder_makes_the_key_of_its_registered_kind():
    for built, part in zip(BUILT, PARTITIONS, strict=True):
        pk, sk = built["pk"]["S"], built["sk"]["S"]
        assert shape(part.pk).fullmatch(pk) and shape(part.sk).fullmatch(sk), (built, part)
        assert pk.startswith(part.prefix)


def test_key_strings_are_unchanged():
    assert [(k["pk"]["S"], k["sk"]["S"]) for k in BUILT] == [
        ("ROUTE#+15555550100", "ROUTE"),
        (f"PIN#{HEX}", "PIN"),
        (f"FAIL#{HEX}", "CALLER"),
        (f"FAIL#{HEX}", "CALLER_NUMBER"),
        (f"FAIL#{HEX}", "CALLER_DAY"),
        (f"FAIL#{HEX}", "CALLER_NUMBER_DAY"),
        (f"FAIL#{HEX}", "REFUND"),
        (f"FAIL#NUMBER#{HEX}", "NUMBER"),
        ("FAIL#STACK", "STACK"),
        ("FAIL#STACK", "ATTESTED"),
        ("RATE#DIALOUT", "RATE"),
        (f"ROOMS#{ACCOUNT}", "ACCOUNT"),
        (f"ROOM#{ACCOUNT}#standup", "STATE"),
        (f"CALLS#{ACCOUNT}#standup", CALL),
        ("CALLS#HELD#1", f"{ACCOUNT}#standup"),
        ("PHONEONLY", f"{ACCOUNT}#standup"),
        ("ROOMPINS#standup", f"PIN#{HEX}"),
        (f"IDEMPOTENCY#{HEX}", "IDEMPOTENCY"),
    ]
    assert keys.split_phone_only(f"{ACCOUNT}#standup") == (ACCOUNT, "standup")


def test_held_listings_spread_over_their_shards_and_never_meet_a_rooms_calls():
    pks = {keys.held_key(ACCOUNT, f"room-{n}")["pk"]["S"] for n in range(200)}
    assert pks == {keys.held_pk(n) for n in range(keys.HELD_SHARDS)}
    assert not any(pk.startswith(keys.calls_pk(ACCOUNT, "")) for pk in pks)  # an AccountSid starts "AC"


# The checkers above can fail: each is shown a wrong template, registry or table.


def test_a_pattern_naming_no_registered_key_is_stale():
    assert stale(["TOKEN#*", "FAIL#*", "ROOM", "PHONEONLY"], PARTITIONS) == ["TOKEN#*", "ROOM"]


@pytest.mark.parametrize(
    ("granted", "problem"),
    [
        ([Grant("Counters", ("dynamodb:UpdateItem",), ("FAIL#NUMBER#*",))], "denied"),
        ([Grant("Counters", ("dynamodb:UpdateItem",), ("FAIL#*", "ROUTE#*"))], "overgranted"),
        ([Grant("Counters", ("dynamodb:*",), None)], "overgranted"),
    ],
)
def test_a_role_that_lacks_or_exceeds_the_registry_is_rejected(
    template: dict[str, Any], granted: list[Grant], problem: str
):
    grants = function_grants(template)
    reads = [g for g in grants["voice"] if not set(g.actions) & set(WRITES)]
    calls = [g for g in grants["voice"] if "dynamodb:PutItem" in g.actions]
    wrong = {**grants, "voice": [*reads, *calls, *granted]}
    check = denied if problem == "denied" else overgranted
    assert check(wrong, PARTITIONS) != []


def test_a_registry_entry_no_role_allows_is_rejected(template: dict[str, Any]):
    extra = Partition("TOKEN#<id>", "TOKEN", "not in the template", (keys.VOICE,))
    assert denied(function_grants(template), (*PARTITIONS, extra)) == ["voice may not write TOKEN#<id>"]
    assert stale(["TOKEN#*"], (*PARTITIONS, extra)) == []


def test_a_docs_table_missing_or_adding_a_row_differs_from_the_registry():
    text = DOCS.read_text(encoding="utf-8")
    gone = "\n".join(line for line in text.splitlines() if not line.startswith("| `RATE#DIALOUT`"))
    assert sorted(docs_rows(gone)) != sorted(registry_rows(PARTITIONS))
    renamed = dataclasses.replace(PARTITIONS[0], pk="ROUTES#<number>")
    assert sorted(docs_rows(text)) != sorted(registry_rows((renamed, *PARTITIONS[1:])))

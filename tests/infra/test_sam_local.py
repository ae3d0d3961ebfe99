"""`sam local` as docs/local.md tells it: each sample event is for a function and an event
(an API route, a schedule) that template.yaml declares, every function has an event, env.json
sets only what each function declares (`sam local` drops the rest), and the page's commands
name real functions with their own events, after `make build`."""

from __future__ import annotations

import json
import re
import shlex
from typing import Any

import pytest

from dialin_tools.lib import sample_events
from dialin_tools.lib.template import ROOT

EVENTS = sample_events.EVENTS_DIR
PAGE = ROOT / "docs" / "local.md"
SAM = ".tools/sam/bin/sam"
ASSIGNMENT = re.compile(r"^[A-Z_][A-Z0-9_]*=")


def event_names() -> list[str]:
    return sorted(p.stem for p in EVENTS.glob("*.json") if p.stem not in ("env", "seed"))


def functions(template: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {
        name: resource["Properties"]
        for name, resource in template["Resources"].items()
        if resource["Type"] == "AWS::Serverless::Function"
    }


def targets(template: dict[str, Any]) -> dict[str, tuple[str, str] | None]:
    return {
        name: sample_events.target(template, json.loads((EVENTS / f"{name}.json").read_text()))
        for name in event_names()
    }


def test_every_event_is_for_a_function_and_event_the_template_declares(template: dict[str, Any]):
    found = targets(template)
    assert [name for name, target in found.items() if target is None] == []
    declared = {(fn, ev) for fn, props in functions(template).items() for ev in props.get("Events") or {}}
    assert {target for target in found.values() if target} <= declared


def test_every_function_has_an_event(template: dict[str, Any]):
    covered = {target[0] for target in targets(template).values() if target}
    assert sorted(set(functions(template)) - covered) == []


def test_an_event_of_no_route_is_for_no_function(template: dict[str, Any]):
    """``target`` reads the template, not the file name: a route or rule it lacks is None."""
    event = json.loads((EVENTS / "dial-out.json").read_text())
    assert sample_events.target(template, {**event, "resource": "/nowhere"}) is None
    assert sample_events.target(template, {**event, "httpMethod": "GET"}) is None
    schedule = json.loads((EVENTS / "phone-only-check.json").read_text())
    other = {
        **schedule,
        "resources": ["arn:aws:events:us-east-1:123456789012:rule/stack-VoiceFunctionTick-X"],
    }
    assert sample_events.target(template, other) is None


def test_env_json_sets_only_what_each_function_declares(template: dict[str, Any]):
    env = json.loads((EVENTS / "env.json").read_text())
    declared = functions(template)
    assert sorted(set(env) - set(declared)) == []
    dropped = {
        function: sorted(
            set(variables) - set((declared[function].get("Environment") or {}).get("Variables", {}))
        )
        for function, variables in env.items()
    }
    assert {function: names for function, names in dropped.items() if names} == {}
    # Each function with a table reads the embedded one; the webhooks are checked for sam's URL.
    for function, variables in env.items():
        if variables.get("TABLE_NAME"):
            assert variables["DYNAMODB_ENDPOINT_URL"] == "http://host.docker.internal:8000", function
        if "PUBLIC_BASE_URL" in variables:
            assert variables["PUBLIC_BASE_URL"] == sample_events.SAM_LOCAL_URL, function


def page_commands() -> list[list[str]]:
    """Each command of docs/local.md's ``sh`` blocks, split as a shell would, without the
    variables set before it (``NAME=value command``)."""
    commands, inside = [], False
    for line in PAGE.read_text(encoding="utf-8").splitlines():
        if line.startswith("```"):
            inside = line == "```sh" and not inside
            continue
        if inside and line.strip():
            argv = shlex.split(line, comments=True)
            while argv and ASSIGNMENT.match(argv[0]):
                argv.pop(0)
            commands.append(argv)
    return commands


def sam_local(command: str) -> list[list[str]]:
    return [argv for argv in page_commands() if argv[:3] == [SAM, "local", command]]


def option(argv: list[str], name: str) -> str:
    assert name in argv, f"{shlex.join(argv)}: no {name}"
    return argv[argv.index(name) + 1]


def test_the_page_builds_before_sam_local_runs():
    commands = page_commands()
    first = next(i for i, argv in enumerate(commands) if argv[:2] == [SAM, "local"])
    assert ["make", "build"] in commands[:first]


def test_each_invoke_names_a_function_and_one_of_its_events(template: dict[str, Any]):
    invokes = sam_local("invoke")
    assert invokes
    found = targets(template)
    for argv in invokes:
        function, event = argv[3], option(argv, "-e")
        assert function in functions(template), shlex.join(argv)
        assert event.startswith("events/") and (ROOT / event).is_file(), shlex.join(argv)
        target = found[event.removeprefix("events/").removesuffix(".json")]
        assert target is not None and target[0] == function, f"{shlex.join(argv)}: the event is for {target}"
    assert sorted(set(functions(template)) - {argv[3] for argv in invokes}) == [], "invoke every function"


@pytest.mark.parametrize("command", ["invoke", "start-api"])
def test_sam_local_gets_the_env_and_the_host_name_on_linux_too(command: str):
    runs = sam_local(command)
    assert runs, f"docs/local.md shows no `sam local {command}`"
    for argv in runs:
        assert option(argv, "--env-vars") == "events/env.json"
        assert option(argv, "--add-host") == "host.docker.internal:host-gateway"


def test_dialin_serve_is_where_env_json_looks_for_it():
    """Its API off start-api's port 3000 (the room-events function's stand-in), its DynamoDB on
    8000; on Linux on the Docker bridge, which host-gateway names."""
    serves = [argv for argv in page_commands() if argv[:2] == [".venv/bin/dialin", "serve"]]
    assert serves
    for argv in serves:
        assert option(argv, "--port") == str(sample_events.SERVE_PORT)
        assert "--dynamodb-port" not in argv
    assert any(
        option(argv, "--dynamodb-host") == "172.17.0.1" for argv in serves if "--dynamodb-host" in argv
    )

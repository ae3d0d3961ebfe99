"""The README's first deploy, as `sam deploy --guided` and the stack will have it: its steps
in order (deploy, the Twilio secret, the number, a smoke call), each function the guided
deploy asks about named with how many times it asks, and only parameters that exist."""

from __future__ import annotations

import re
from typing import Any

from dialin_tools.lib import template as tpl
from dialin_tools.lib.template import ROOT

README = (ROOT / "README.md").read_text(encoding="utf-8")
DEPLOY = README[README.index("\n## Deploy\n") : README.index("\n## Call flow")]
TIMES = {1: "once", 2: "twice", 3: "three times", 4: "four times", 5: "five times", 6: "six times"}


def unauthenticated_routes(template: dict[str, Any]) -> dict[str, int]:
    """How often `sam deploy --guided` asks "FUNCTION has no authentication. Is this okay?":
    once for each Api event of the function without an authorizer (the API has no default)."""
    api = template["Resources"]["VoiceApi"]["Properties"]
    assert "Auth" not in api, "a default authorizer changes which routes the guided deploy asks about"
    counts: dict[str, int] = {}
    for route in tpl.api_routes(template):
        if not route.auth:
            counts[route.function] = counts.get(route.function, 0) + 1
    return counts


def test_the_steps_come_in_the_order_a_first_deploy_takes_them():
    steps = [
        ".tools/sam/bin/sam deploy --guided",
        "aws secretsmanager put-secret-value",
        ".venv/bin/dialin configure-number",
        '.venv/bin/dialin call --url "$API_BASE_URL"',
    ]
    places = [DEPLOY.find(step) for step in steps]
    assert -1 not in places, dict(zip(steps, places, strict=True))
    assert places == sorted(places)
    numbered = [int(n) for n in re.findall(r"^\*\*(\d)\. ", DEPLOY, re.M)]
    assert numbered == [1, 2, 3, 4]


def test_each_function_the_guided_deploy_asks_about_is_named_as_often(template: dict[str, Any]):
    asked = unauthenticated_routes(template)
    assert asked  # the webhooks: Twilio's signature is their authentication
    for function, count in asked.items():
        prompt = f"**{function} has no authentication. Is this okay?** {TIMES[count]}"
        assert prompt in " ".join(DEPLOY.split()), f"the README should say: {prompt}"
    named = set(re.findall(r"\*\*(\w+) has no authentication", DEPLOY))
    assert named == set(asked)


def test_the_parameters_the_readme_names_exist(template: dict[str, Any]):
    prompts = DEPLOY[DEPLOY.index("each parameter") : DEPLOY.index("**Confirm changes")]
    named = set(re.findall(r"`([A-Z][A-Za-z]+)`", prompts))
    assert named and named <= set(template["Parameters"])

"""A route's own prompt texts and language, through every step of a call on the real
handler (moto): the step URLs carry only a flag, and the steps read the texts back."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest
from support.callers import ALICE_PIN, INCOMING, gather_action, post
from support.twiml import parse, said, verbs
from support.voice import TABLE, Clock, Handler

from dialin.admin.specs import make_route
from dialin.speech.catalogues import fr

NUMBER = "+15555550141"
OWN = {"PIN_PROMPT": "Code PIN de la salle, puis dièse.", "NOT_STARTED": "Pas encore commencé, restez là."}


@pytest.fixture
def french_route(dynamodb: Any) -> Any:
    route = make_route(NUMBER, mode="pin", language="fr-FR", prompts=OWN)
    dynamodb.put_item(TableName=TABLE, Item=route.to_item())
    return dynamodb


def test_every_step_speaks_the_routes_texts_then_its_catalogue(
    voice_handler: Handler, french_route: Any, clock: Clock
):
    root = parse(post(voice_handler, INCOMING, To=NUMBER))
    say = root.find("Gather/Say")
    assert say.text == OWN["PIN_PROMPT"]
    assert (say.get("voice"), say.get("language")) == ("Polly.Lea", "fr-FR")
    action = gather_action(root)
    query = dict(parse_qsl(urlsplit(action).query))
    assert query["o"] == "1" and OWN["PIN_PROMPT"] not in action  # a flag, not the texts

    root = parse(post(voice_handler, action, To=NUMBER, Digits="999999"))
    assert said(root) == f"{fr.TEXTS['PIN_WRONG']} {OWN['PIN_PROMPT']}"
    root = parse(post(voice_handler, gather_action(root), To=NUMBER, Digits=ALICE_PIN))
    assert verbs(root) == ["Say", "Connect", "Redirect"] and said(root) == fr.TEXTS["PIN_ACCEPTED"]

    clock.now += 3  # the room was not in progress
    root = parse(post(voice_handler, root.find("Redirect").text, To=NUMBER))
    assert said(root) == OWN["NOT_STARTED"]
    assert root.find("Say").get("language") == "fr-FR"


def test_a_route_changed_mid_call_speaks_its_new_texts(voice_handler: Handler, french_route: Any):
    root = parse(post(voice_handler, INCOMING, To=NUMBER))
    changed = make_route(NUMBER, mode="pin", language="fr-FR", prompts={"PIN_PROMPT": "Nouveau texte."})
    french_route.put_item(TableName=TABLE, Item=changed.to_item())
    root = parse(post(voice_handler, gather_action(root), To=NUMBER, Digits=""))
    assert said(root) == f"{fr.TEXTS['PIN_MISSING']} Nouveau texte."


def reads_of_one_step(dynamodb: Any, step: Any) -> tuple[Any, list[str]]:
    seen: list[str] = []

    def record(model: Any, params: dict[str, Any], **_: Any) -> None:
        seen.append(model.name)

    dynamodb.meta.events.register("before-parameter-build.dynamodb", record)
    try:
        return step(), seen
    finally:
        dynamodb.meta.events.unregister("before-parameter-build.dynamodb", record)


def test_only_a_route_with_texts_of_its_own_is_read_again(voice_handler: Handler, french_route: Any):
    for number, reads in (("+15555550101", ["BatchGetItem"]), (NUMBER, ["GetItem", "BatchGetItem"])):
        root = parse(post(voice_handler, INCOMING, To=number))
        action = gather_action(root)
        assert ("o=1" in action) == (number == NUMBER)
        answer, seen = reads_of_one_step(
            french_route,
            lambda: post(voice_handler, action, To=number, Digits=ALICE_PIN),  # noqa: B023
        )
        assert verbs(parse(answer)) == ["Say", "Connect", "Redirect"] and seen == reads

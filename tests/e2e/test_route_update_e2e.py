"""`dialin route update` changes only what it names, and `route add --replace` says what it
drops: against a running `dialin serve`, through --local and through the admin API (--url),
with calls that hear the result."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from support.served import Served, dialin_serve

from dialin.speech import messages, prompts
from dialin_tools import cli

NUMBER = "+15555550181"
FRENCH_PROMPT = "Votre code de réunion, s'il vous plaît."


@pytest.fixture(scope="module")
def served() -> Iterator[Served]:
    with dialin_serve() as running:
        yield running


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = cli.main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def route_line(served: Served, capsys: pytest.CaptureFixture[str], number: str) -> str:
    code, out, _ = run(capsys, "route", "list", "--local", "--endpoint-url", served.dynamodb)
    assert code == 0
    return next(line for line in out.splitlines() if line.startswith(number))


def test_update_keeps_the_language_and_voice_it_does_not_name(served: Served, capsys):
    local = ["--local", "--endpoint-url", served.dynamodb]
    assert (
        run(capsys, "route", "add", NUMBER, "--pin", "--language", "fr-FR", "--voice", "Polly.Lea", *local)[0]
        == 0
    )

    code, out, err = run(capsys, "route", "update", NUMBER, "--prompt", f"PIN_PROMPT={FRENCH_PROMPT}", *local)
    assert code == 0, err
    assert f"Route {NUMBER} updated in the local table" in out
    assert out.rstrip().endswith(": prompt PIN_PROMPT set."), out
    assert re.search(r"Polly\.Lea\s+fr-FR", route_line(served, capsys, NUMBER))

    code = cli.main(["call", "--to", NUMBER, "--digits", "246810", "--url", served.url])
    heard = capsys.readouterr().out
    assert code == 0, heard
    assert f"hears (Polly.Lea, fr-FR): {FRENCH_PROMPT}" in heard

    code, out, _ = run(capsys, "route", "update", NUMBER, "--language", "de-DE", "--voice", "", *local)
    assert code == 0
    assert "voice Polly.Lea -> (none); language fr-FR -> de-DE." in out
    code, out, _ = run(capsys, "route", "update", NUMBER, "--language", "de-DE", *local)
    assert code == 0 and "already has those settings; nothing was changed" in out


def test_an_empty_prompt_text_drops_only_that_prompt(served: Served, capsys):
    local = ["--local", "--endpoint-url", served.dynamodb]
    number = "+15555550182"
    own = ["--prompt", "PIN_PROMPT=Your code?", "--prompt", "PIN_WRONG=No."]
    assert run(capsys, "route", "add", number, "--pin", "--language", "en-GB", *own, *local)[0] == 0
    code, out, _ = run(capsys, "route", "update", number, "--prompt", "PIN_WRONG=", *local)
    assert code == 0 and out.rstrip().endswith(": prompt PIN_WRONG dropped."), out
    code = cli.main(["call", "--to", number, "--digits", "111111", "246810", "--url", served.url])
    heard = capsys.readouterr().out
    assert code == 0, heard
    assert "hears (Polly.Amy, en-GB): Your code?" in heard
    wrong = prompts.localize(messages.PIN_WRONG, "en-GB", {})
    assert f"hears (Polly.Amy, en-GB): {wrong} Your code?" in heard  # the catalogue's text again


def test_replace_says_what_it_drops(served: Served, capsys, tmp_path: Path):
    local = ["--local", "--endpoint-url", served.dynamodb]
    number = "+15555550183"
    assert (
        run(capsys, "route", "add", number, "--pin", "--language", "fr-FR", "--voice", "Polly.Lea", *local)[0]
        == 0
    )
    prompts = tmp_path / "prompts.json"
    prompts.write_text(json.dumps({"PIN_PROMPT": FRENCH_PROMPT}), encoding="utf-8")
    code, out, err = run(
        capsys, "route", "add", number, "--pin", "--prompts-file", str(prompts), "--replace", *local
    )
    assert code == 0 and "saved in" in out
    assert "warning: --replace dropped voice Polly.Lea; language fr-FR" in err
    assert "`dialin route update` changes only what it names" in err
    code, out, err = run(
        capsys, "route", "add", number, "--pin", "--prompts-file", str(prompts), "--replace", *local
    )
    assert code == 0 and "dropped" not in err  # nothing left to drop


def test_bad_updates_change_nothing(served: Served, capsys):
    local = ["--local", "--endpoint-url", served.dynamodb]
    number = "+15555550184"
    assert run(capsys, "route", "add", number, "--room", "Board", "--language", "es-MX", *local)[0] == 0
    before = route_line(served, capsys, number)
    code, _, err = run(capsys, "route", "update", number, "--attempts", "99", *local)
    assert code == 1 and "attempts" in err
    code, _, err = run(capsys, "route", "update", number, "--room", "Board\u200b", *local)
    assert code == 1 and "U+200B" in err
    assert route_line(served, capsys, number) == before
    code, _, err = run(capsys, "route", "update", "+15555550185", "--language", "fr-FR", *local)
    assert code == 1 and "no route for +15555550185; nothing was changed" in err
    assert "dialin route add" in err


def test_update_through_the_admin_api(served: Served, capsys):
    api = ["--url", served.url]
    number = "+15555550186"
    assert run(capsys, "route", "add", number, "--room", "Board", "--language", "it-IT", *api)[0] == 0
    code, out, err = run(capsys, "route", "update", number, "--room", "Aula 2", *api)
    assert code == 0, err
    assert "room Board -> Aula 2." in out and "the admin API" in out
    assert re.search(r"Aula 2\s+last-digits.*it-IT", route_line(served, capsys, number))

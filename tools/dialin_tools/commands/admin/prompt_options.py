"""`dialin route add --prompt NAME=TEXT --prompts-file FILE`: a route's own prompt texts.

The file is a JSON object of prompt names and texts, e.g. ``{"PIN_PROMPT": "Your room PIN, please."}``;
a ``--prompt`` given on the line wins over the file. The texts are checked by the admin core.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Sequence
from pathlib import Path

from dialin.core.records import DTMF, DTMF_SPEECH
from dialin.speech.prompts import PROMPT_NAMES
from dialin_tools.errors import Invalid


def add_prompt_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--prompt",
        action="append",
        default=[],
        metavar="NAME=TEXT",
        help=f"the route's own text for a prompt (repeatable); names: {', '.join(PROMPT_NAMES)}",
    )
    parser.add_argument("--prompts-file", type=Path, metavar="FILE", help='JSON: {"PIN_PROMPT": "...", ...}')
    parser.add_argument("--spoken-pin", action="store_true", help="a PIN number also takes a spoken PIN")


def pin_input(args: argparse.Namespace) -> str:
    return DTMF_SPEECH if args.spoken_pin else DTMF


def read_prompts(pairs: Sequence[str], file: Path | None) -> dict[str, str]:
    prompts: dict[str, str] = {}
    if file is not None:
        try:
            data = json.loads(file.read_text(encoding="utf-8"))
        except OSError as exc:
            raise Invalid(f"cannot read {file}: {exc.strerror}") from None
        except ValueError:
            raise Invalid(f"{file} is not valid UTF-8 JSON") from None
        if not isinstance(data, dict) or not all(isinstance(v, str) for v in data.values()):
            raise Invalid(f'{file} must be a JSON object of prompt texts, e.g. {{"PIN_PROMPT": "..."}}')
        prompts.update(data)
    for pair in pairs:
        name, equals, text = pair.partition("=")
        if not equals:
            raise Invalid(
                f"--prompt takes NAME=TEXT, e.g. PIN_PROMPT='Your room PIN, please.' (got {name[:40]!r})"
            )
        prompts[name.strip()] = text
    return prompts

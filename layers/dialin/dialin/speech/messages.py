"""What callers hear, in English: the English catalogue, and the names of every prompt.

One place, so inbound and dial-out legs say the same things. Each constant is a ``Prompt``:
English text that also carries its name. The name, never the English text, is the key of the
prompt's translation in every catalogue of ``dialin/speech/catalogues/`` (a test fails until
each has it) and of a route's own text for it (``dialin route add --prompt``), so
``dialin.speech.prompts.localize`` finds it in the caller's language. Text that is not a
``Prompt`` (a route's greeting) is said as it is.
"""

from __future__ import annotations


class Prompt(str):
    """A prompt: its English text (so it reads and compares as that text) and its ``key``.

    String operations return plain ``str`` and lose the key: localize a prompt before
    formatting or joining it (``dialin.calls.verbs.say`` takes several parts for that)."""

    key: str

    def __new__(cls, key: str, english: str) -> Prompt:
        prompt = super().__new__(cls, english)
        prompt.key = key
        return prompt

    def __reduce__(self) -> tuple[type[Prompt], tuple[str, str]]:
        return (Prompt, (self.key, str(self)))


CONNECTING = Prompt("CONNECTING", "Connecting you to the meeting.")
PIN_ACCEPTED = Prompt("PIN_ACCEPTED", "Thank you. Connecting you to the meeting.")
PIN_PROMPT = Prompt("PIN_PROMPT", "Please enter your meeting PIN, followed by the pound key.")
PIN_WRONG = Prompt("PIN_WRONG", "Sorry, that PIN was not recognised.")
PIN_MISSING = Prompt("PIN_MISSING", "We did not receive a PIN.")
PIN_FAILED = Prompt(
    "PIN_FAILED", "Sorry, that PIN was not recognised. Please check it and call again. Goodbye."
)
LOCKED_OUT = Prompt(
    "LOCKED_OUT",
    "Sorry, too many incorrect PINs have been entered from this phone. Please try again later. Goodbye.",
)
UNKNOWN_NUMBER = Prompt("UNKNOWN_NUMBER", "Sorry, this number is not connected to a meeting. Goodbye.")
NOT_STARTED = Prompt(
    "NOT_STARTED",
    "The meeting has not started yet. Please stay on the line, and you will join as soon as it starts.",
)
STILL_WAITING = Prompt("STILL_WAITING", "The meeting has still not started. Thank you for holding.")
GAVE_UP = Prompt("GAVE_UP", "The meeting has not started. Please call again later. Goodbye.")
SESSION_ENDED = Prompt("SESSION_ENDED", "You have left the meeting. Goodbye.")
UNAVAILABLE = Prompt(
    "UNAVAILABLE",
    "Sorry, the meeting service is temporarily unavailable. Please try again in a few minutes. Goodbye.",
)
PIN_PROMPT_SPOKEN = Prompt(
    "PIN_PROMPT_SPOKEN",
    "Please enter your meeting PIN, followed by the pound key, or say it one digit at a time.",
)
DIAL_OUT_INVITE = Prompt("DIAL_OUT_INVITE", "Hello. You are invited to join a meeting.")
DIAL_OUT_INVITE_BY = Prompt("DIAL_OUT_INVITE_BY", "Hello. {caller} invites you to join a meeting.")
DIAL_OUT_ROOM = Prompt("DIAL_OUT_ROOM", "The meeting is {room}.")
DIAL_OUT_PRESS_ONE = Prompt("DIAL_OUT_PRESS_ONE", "To join, press 1.")
DIAL_OUT_NOT_CONFIRMED = Prompt("DIAL_OUT_NOT_CONFIRMED", "You have not joined the meeting. Goodbye.")
# Room-aware joining (room status callbacks).
MEETING_FULL = Prompt(
    "MEETING_FULL",
    "The meeting is full. Please stay on the line, and you will join as soon as a place is free.",
)
STILL_FULL = Prompt("STILL_FULL", "The meeting is still full. Thank you for holding.")
EVERYONE_LEFT = Prompt(
    "EVERYONE_LEFT", "Everyone else has left the meeting, so this call will now end. Goodbye."
)
PIN_OPENS_IN = Prompt(
    "PIN_OPENS_IN",
    "Your PIN opens in {minutes} minutes. Please stay on the line, and you will join when it opens.",
)
PIN_OPENS_SOON = Prompt(
    "PIN_OPENS_SOON",
    "Your PIN opens in one minute. Please stay on the line, and you will join when it opens.",
)
PIN_EXPIRED = Prompt("PIN_EXPIRED", "Sorry, that PIN has expired. Please check your invitation. Goodbye.")
TRY_LATER = Prompt(
    "TRY_LATER", "Sorry, we cannot take PINs on this line right now. Please try again later. Goodbye."
)
SLOW_PATH = Prompt("SLOW_PATH", "Please hold for a moment.")
STEP_EXPIRED = Prompt("STEP_EXPIRED", "Sorry, that took too long. Please call again. Goodbye.")
# Hosts in control of phone callers (the admin API's callers routes).
REMOVED = Prompt("REMOVED", "You have been removed from the meeting. Goodbye.")
MOVING = Prompt("MOVING", "Moving you to {room}.")

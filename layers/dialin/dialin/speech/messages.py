"""What callers hear, in English: the English catalogue, and the keys of the others.

One place, so inbound and dial-out legs say the same things. Each constant is a prompt; its
name is the key of its translation in every catalogue of ``dialin/catalogues/`` (a test
fails until each has it) and of a route's own text for it (``dialin route add --prompt``).
``dialin.speech.prompts.localize`` picks the caller's language as the flow speaks.
"""

CONNECTING = "Connecting you to the meeting."
PIN_ACCEPTED = "Thank you. Connecting you to the meeting."
PIN_PROMPT = "Please enter your meeting PIN, followed by the pound key."
PIN_WRONG = "Sorry, that PIN was not recognised."
PIN_MISSING = "We did not receive a PIN."
PIN_FAILED = "Sorry, that PIN was not recognised. Please check it and call again. Goodbye."
LOCKED_OUT = (
    "Sorry, too many incorrect PINs have been entered from this phone. Please try again later. Goodbye."
)
UNKNOWN_NUMBER = "Sorry, this number is not connected to a meeting. Goodbye."
NOT_STARTED = (
    "The meeting has not started yet. Please stay on the line, and you will join as soon as it starts."
)
STILL_WAITING = "The meeting has still not started. Thank you for holding."
GAVE_UP = "The meeting has not started. Please call again later. Goodbye."
SESSION_ENDED = "You have left the meeting. Goodbye."
UNAVAILABLE = (
    "Sorry, the meeting service is temporarily unavailable. Please try again in a few minutes. Goodbye."
)
PIN_PROMPT_SPOKEN = "Please enter your meeting PIN, followed by the pound key, or say it one digit at a time."
DIAL_OUT_INVITE = "Hello. You are invited to join a meeting."
DIAL_OUT_INVITE_BY = "Hello. {caller} invites you to join a meeting."
DIAL_OUT_ROOM = "The meeting is {room}."
DIAL_OUT_PRESS_ONE = "To join, press 1."
DIAL_OUT_NOT_CONFIRMED = "You have not joined the meeting. Goodbye."
# Room-aware joining (room status callbacks).
MEETING_FULL = "The meeting is full. Please stay on the line, and you will join as soon as a place is free."
STILL_FULL = "The meeting is still full. Thank you for holding."
EVERYONE_LEFT = "Everyone else has left the meeting, so this call will now end. Goodbye."
PIN_OPENS_IN = (
    "Your PIN opens in {minutes} minutes. Please stay on the line, and you will join when it opens."
)
PIN_OPENS_SOON = "Your PIN opens in one minute. Please stay on the line, and you will join when it opens."
PIN_EXPIRED = "Sorry, that PIN has expired. Please check your invitation. Goodbye."
TRY_LATER = "Sorry, we cannot take PINs on this line right now. Please try again later. Goodbye."
SLOW_PATH = "Please hold for a moment."
STEP_EXPIRED = "Sorry, that took too long. Please call again. Goodbye."

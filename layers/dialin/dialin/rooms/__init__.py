"""Room-aware joining: ``state`` (room state, call items and the decisions on them),
``flow`` (hold, join, early PINs as TwiML), ``table`` (room state and call items on the
table), ``writes`` (the room state's conditional updates, one per callback) and ``store``
(the room-events function's side of the table, which sends them), ``events``
(RoomEventsApp: /video/status and the phone-only check), ``sweep`` (what the per-minute
sweep asks Twilio before acting) and ``checks`` (what Twilio's answer means for a room, pure),
``pins`` (a room's PINs and the revocation of those that end with it)."""

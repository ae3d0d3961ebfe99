"""Room-aware joining: ``state`` (room state, call items and the decisions on them),
``flow`` (hold, join, early PINs as TwiML), ``table`` (room state and call items on the
table), ``writes`` (the room state's conditional updates, one per callback) and ``store``
(the room-events function's side of the table, which sends them), ``events``
(RoomEventsApp: /video/status and the phone-only check), ``pins`` (a room's PINs and the
revocation of those that end with it)."""

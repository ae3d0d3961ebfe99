"""Room-aware joining: ``state`` (room state, call items and the decisions on them),
``flow`` (hold, join, early PINs as TwiML), ``table`` (room state and call items on the
table), ``events`` (RoomEventsApp: /video/status and the phone-only check), ``pins`` (a
room's PINs and the revocation of those that end with it)."""

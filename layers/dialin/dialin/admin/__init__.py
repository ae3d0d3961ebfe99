"""The admin core: one way to check and write routes and PINs, behind every door.

- ``checks``: input rules (E.164, names, PIN digits, times, text limits).
- ``specs``: validated records: ``make_route``, ``make_pin_spec``, ``issue_pin``.
- ``bulk``: import files (JSON, CSV) planned row by row before any write.
- ``table``: ``Admin``, the operations on the directory table (conditional writes).
- ``lockouts``: a caller's failed-PIN counters: locked out until when, and lifting it.
- ``idempotency``: the admin API's Idempotency-Key records.
- ``callers``: a room's phone callers: remove one, move one or all (Twilio's Calls API).
- ``api`` + ``payload``: the admin API's router and its JSON bodies.

Nothing here is imported on the voice webhook's path.
"""

"""Helpers shared by the test tiers (on the path as ``support``; fixtures live in conftest.py):
``voice`` (the function under test), ``twiml`` (parsing answers), ``callers`` (signed
Twilio posts), ``observed`` (logs and metrics), ``twilio_fake`` (Twilio's REST API, the one
fake every tier uses), ``rooms`` (room callbacks, the room-events function), ``local_http``
(a recording server standing in for our own endpoints), ``stack_stub``, ``dial_events`` and
``registered`` (the tools' fakes), and ``served`` (`dialin serve` as a process)."""

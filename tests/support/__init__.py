"""Helpers shared by the test tiers (on the path as ``support``; fixtures live in conftest.py):
``voice`` (the function under test), ``twiml`` (parsing answers), ``callers`` (signed
Twilio posts), ``observed`` (logs and metrics), ``twilio_fake`` and ``local_http`` (HTTP
stand-ins), ``stack_stub``, ``dial_events`` and ``registered`` (the tools' fakes), and
``served`` (`dialin serve` as a process)."""

"""Dial-out (POST /calls): ``request`` (the checked request, allow-list, premium ranges),
``flow`` (the callee's TwiML: invitation, press 1, join), ``rate`` (calls per hour),
``app`` (DialOutApp; with ``rooms.events``, the only place twilio.rest loads)."""

"""Dial-out (POST /calls): ``request`` (the checked request, allow-list, premium ranges),
``flow`` (the callee's TwiML: invitation, press 1, join), ``rate`` (calls per hour),
``app`` (DialOutApp, the only voice-side user of twilio.rest besides rooms.events)."""

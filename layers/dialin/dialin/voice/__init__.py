"""The voice webhooks: ``app`` (VoiceApp: /voice/incoming, /voice/pin, /voice/wait,
/voice/status, /voice/fallback, /voice/confirm), ``flow`` (the PIN call flow as pure
functions), ``directory`` (route and PIN reads), ``status`` (status callbacks),
``room_aware`` (the steps' room-aware side), ``pin_guard`` (the PIN steps' counters: read
before a PIN is used, a failure counted, typos forgiven)."""

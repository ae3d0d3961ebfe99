"""Runtime library for the Twilio Video dial-in bridge (shipped as the `dialin` Lambda layer).

Where the code lives, in layers; a module imports only from its own layer or those listed
before it:

- Leaf rules (no I/O): ``validation`` (E.164, masking), ``records`` (item formats, and the
  reader for them), ``pins`` (generate, hash), ``identity`` (participant identities),
  ``messages`` (what callers hear, in English), ``catalogues`` (the same in other
  languages), ``prompts`` (the caller's language, as the flow speaks), ``spoken`` (a spoken
  PIN as digits), ``config`` (Settings from the environment), ``state`` (the state carried
  in our signed step URLs), ``errors`` (user errors: Invalid, Conflict, NotFound),
  ``rooms`` (room state, call items and the decisions on them).
- Brute-force rules (no I/O): ``budgets`` (attested or not, withheld numbers as one caller,
  the per-number and per-stack failure budgets).
- Events and signatures: ``apigateway`` (API Gateway v1/v2 events: headers, body, form,
  route, public base URL), ``signature`` (Twilio's X-Twilio-Signature over that URL).
- Pure flow: ``flow`` (call, records, clock reading -> TwiML); never the table or the clock;
  ``room_flow`` (room-aware joining: hold, join, early PINs).
- I/O: ``directory`` (table reads), ``lockout`` (policy and FAIL# counters), ``defences``
  (which counters a caller's failures spend, read at the first step and counted at the PIN
  step), ``call_rate`` (dial-out's calls per hour), ``credentials`` (Secrets Manager, or the
  local environment; the previous token only within the rotation grace), ``observability``
  (Powertools logger and metrics), ``faults`` (which failures are the service's),
  ``http`` (proxy responses), ``room_table`` (room state and call items),
  ``twilio_rest`` (Twilio's REST client, one base URL for every domain).
- Apps: ``webhooks`` (VoiceApp: /voice/incoming, /voice/pin, /voice/wait, /voice/status,
  /voice/fallback, /voice/confirm for dial-out), ``status`` (status callbacks),
  ``dial_request`` + ``dialout`` (POST /calls), ``room_steps`` (the voice steps' room-aware
  side), ``room_events`` (RoomEventsApp: /video/status and the phone-only check; with
  dial-out, the only places twilio.rest loads).
- Admin core: ``admin`` (``checks``, ``specs``, ``bulk``, ``table``, ``idempotency``;
  ``api`` + ``payload``: the admin API's router and JSON), shared by every admin door (the
  `dialin` CLI, the admin API, bulk import). ``room_pins``: a room's PINs (membership
  items) and the revocation of PINs that end with their room (used by the admin core and
  the room events).

One call, traced: Twilio posts /voice/incoming -> ``functions/voice/app.py``
``lambda_handler`` (Powertools wraps it) -> ``webhooks.VoiceApp.handle``:
``apigateway.route_path`` picks the step, ``signature.is_valid`` checks the signature with
``credentials.auth_tokens_for(AccountSid)`` (403 if wrong) -> ``VoiceApp.incoming``: one BatchGetItem through
``directory.Directory.route_and_counters`` (the route, read back by ``records``, and the
FAIL# counters ``defences`` names for this caller, judged by ``lockout`` and ``budgets``)
-> ``flow.incoming`` builds the TwiML
(<Connect><Room>, or a PIN <Gather> whose action URL carries ``state``) -> ``http.twiml``
answers 200 application/xml.
Any fault on the way answers a polite 200 ("temporarily unavailable") instead.
"""

"""Runtime library for the Twilio Video dial-in bridge (shipped as the `dialin` Lambda layer).

The tree is the architecture: one package per capability, each importing only from the
packages listed before it (``tests/infra/test_layering.py`` asserts it on the real import
graph). Each package's docstring names its modules.

- ``core``: rules with no I/O: validation, errors, config, identity, records, PIN hashing.
- ``speech``: what callers hear: messages, catalogues per language, prompts, spoken PINs.
- ``edge``: API Gateway events, signatures, HTTP answers, credentials, observability,
  faults, Twilio's REST client, DynamoDB helpers.
- ``guard``: brute-force defences: lockout, budgets, the counters on the table.
- ``calls``: what every call is made of: the call, signed step state, TwiML verbs.
- ``rooms``: room-aware joining: room state, hold TwiML, the room table, the room-events
  app, a room's PINs.
- ``dialout``: POST /calls: the request, the callee's TwiML, the call rate, the app.
- ``voice``: the voice webhooks: VoiceApp, the PIN flow, the directory, status callbacks,
  the room-aware steps.
- ``admin``: the admin core shared by the `dialin` CLI, the admin API and bulk import.

``__init__.py`` files import nothing, so loading one module never loads a package's
siblings (the voice function never loads ``twilio.rest``).

One call, traced: Twilio posts /voice/incoming -> ``functions/voice/app.py``
``lambda_handler`` (Powertools wraps it) -> ``voice.app.VoiceApp.handle``:
``edge.apigateway.route_path`` picks the step, ``edge.signature.signed_params`` checks
the signature with ``edge.credentials`` (403 if wrong) -> ``VoiceApp.incoming``: one
BatchGetItem through ``voice.directory.Directory.route_and_counters`` (the route, read back
by ``core.records``, and the FAIL# counters ``guard.defences`` names for this caller,
judged by ``guard.lockout`` and ``guard.budgets``) -> ``voice.flow.incoming`` builds the
TwiML with ``calls.verbs`` (<Connect><Room>, or a PIN <Gather> whose action URL carries
``calls.steps`` state, said by ``calls.verbs.say`` through ``speech.prompts``) and returns
it with its outcome (``calls.call.Answer``), which ``VoiceApp`` counts and logs in one
place -> ``edge.http.twiml`` answers
200 application/xml. Any fault on the way answers a polite 200 ("temporarily unavailable")
instead, reported by ``edge.faults.report`` (as in every function).
"""

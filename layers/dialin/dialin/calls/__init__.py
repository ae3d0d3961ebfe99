"""What every call is made of: ``call`` (a webhook's parameters, the limits), ``steps`` (the
state carried in our signed step URLs), ``verbs`` (TwiML building blocks: say, connect,
goodbye, the timer hold). Pure: no table, no clock."""

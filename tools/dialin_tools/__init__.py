"""Admin and local tools for the dial-in bridge (the `dialin` command). Not deployed.

- ``cli``: the entry point; ``COMMANDS`` lists each command module; every user error is a
  ``DialinError`` (``errors``), printed once with its exit code.
- ``commands/<name>/cli.py``: one command's options and run function, with the modules doing
  its work beside it: ``serve`` (``server``: the local API and embedded DynamoDB;
  ``handlers``: loading the real Lambda handlers; ``seed``; ``twilio_standin``: Twilio's
  REST API and media side under /_twilio; ``schedules``: the template's Schedule events; ``options``),
  ``call`` (``phone``: the Twilio-like call player), ``admin`` (``route``/``pin``/``import``
  over ``dialin.admin``; ``targets``: which table; ``output``: listings, warnings;
  ``remote``: through the admin API, `--url`), ``lockout`` (a caller's failed-PIN lockout),
  ``callers`` (remove or move a room's phone callers, through the admin API),
  ``configure_number`` (``numbers``), ``dial``, ``room`` (signed room callbacks).
- ``lib``: shared pieces: ``apigw`` (API Gateway events, Twilio signing, the documented dev
  token), ``template`` (template.yaml reader), ``stack`` (stack outputs), ``sigv4``,
  ``sample_events`` (events/), ``faultinject``, ``simulated_time`` (serve follows call's clock),
  ``dashboard`` (the CloudWatch dashboard's widgets; `make dashboard` writes them into template.yaml),
  ``video_rooms`` (Twilio Video's rooms and participants from the room callbacks: the serve
  stand-in's and the test suite's Video REST answers).
"""

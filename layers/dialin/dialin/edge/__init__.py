"""Where the runtime meets the outside: ``apigateway`` (API Gateway v1/v2 events),
``signature`` (X-Twilio-Signature: ``signed_params``, every webhook's preamble), ``http``
(proxy answers), ``credentials`` (Secrets Manager), ``observability`` (Powertools logger and
metrics), ``faults`` (which failures are the service's, and ``report``, the one fault
reporter of every function), ``rest`` (Twilio's REST client, one base URL), ``pacing``
(its retries at Twilio's pace), ``dynamo`` (the DynamoDB client and its helpers).
``video``: what the sweeps ask Twilio's Video REST API (who is connected, which room runs)."""

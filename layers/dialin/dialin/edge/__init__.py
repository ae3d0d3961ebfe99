"""Where the runtime meets the outside: ``apigateway`` (API Gateway v1/v2 events),
``signature`` (X-Twilio-Signature), ``http`` (proxy answers), ``credentials`` (Secrets
Manager), ``observability`` (Powertools logger and metrics), ``faults`` (which failures are
the service's), ``rest`` (Twilio's REST client, one base URL), ``dynamo`` (the DynamoDB
client and its helpers)."""

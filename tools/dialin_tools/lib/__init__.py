"""What several `dialin` commands (and the tests and `make bench`) share: API Gateway events
and Twilio signatures (``apigw``), template.yaml (``template``), the deployed stack's outputs
(``stack``), SigV4 requests (``sigv4``), the sample events, fault injection endpoints, and the
CloudWatch dashboard generated into template.yaml (``dashboard``)."""

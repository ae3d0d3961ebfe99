"""Runtime library for the Twilio Video dial-in bridge (shipped as the `dialin` Lambda layer)."""

"""Admin and local tools for the dial-in bridge (the `dialin` command). Not deployed."""

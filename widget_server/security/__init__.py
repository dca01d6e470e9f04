"""Keys, signed tokens and nonces, secrets at rest, origin checks."""

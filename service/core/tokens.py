"""API tokens are stored as their SHA-256 only: a copy of the database does not hand out working tokens. A token is
random (256 bits), so a plain hash is enough; a slow password hash would only slow every API request."""

from __future__ import annotations

import hashlib


def token_hash(token: str) -> str:
    """The hex SHA-256 of a token as the client sends it."""
    return hashlib.sha256(token.encode()).hexdigest()

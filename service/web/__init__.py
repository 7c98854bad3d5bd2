"""The web layer: Litestar controllers, one per kind of user, and the pages they render."""

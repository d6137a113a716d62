"""Users, organisations, roles, sessions and API tokens."""

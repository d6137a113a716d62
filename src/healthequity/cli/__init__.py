"""The `healthequity` command."""

"""`python -m healthequity` runs the `healthequity` command."""

from healthequity.cli.main import main

main()

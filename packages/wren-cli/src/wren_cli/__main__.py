"""`python -m wren_cli` is the `wren` command."""

from wren_cli.main import main

main()

"""One module per CLI subcommand; each exposes ``register(subparsers)`` which sets ``func`` on its parser."""

"""Command-line commands for training (registered with engine.cli)."""

"""Command-line commands for export and import (registered with engine.cli)."""

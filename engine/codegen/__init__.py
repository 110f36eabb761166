"""Turning designs into Python source: safe names, the forward code both the app and the exported
file run, the module constructor calls, the file layout (by ruff), and the `export`/`import`
commands."""

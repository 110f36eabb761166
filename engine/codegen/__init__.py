"""Turning designs into Python source: safe names, the forward code both the app and the exported
file run, the module constructors, the file layout, and the `export`/`import` commands."""

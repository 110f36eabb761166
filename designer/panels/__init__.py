"""The dockable panels around the canvas: palette, inspector, problems, summary, code view."""

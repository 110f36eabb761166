"""The Training panel: settings, live curves, diagnostics, runs and predictions.

Modules here that a helper process imports (`tasks`) must not import Qt, so this package's
`__init__` imports nothing.
"""

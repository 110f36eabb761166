"""Training: settings, recipes, data, the loop, the worker process and diagnostics."""

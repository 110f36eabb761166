"""Training: settings, recipes, data, the loop, the worker process and diagnostics.

Importing this package registers the validation of `design.training` with engine.fileformat
(through engine.training.settings), so design files with bad settings fail to load with an
error naming the field.
"""

from engine.training import settings as settings  # registers the validators

"""Test set-up: GUI tests run headless."""

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

"""Facts about the machine a script runs on, without importing numpy or torch (the app's
`check` asks them too)."""

import os


def memory_bytes():
    """All of this machine's memory in bytes, or None where the system does not say."""
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (AttributeError, ValueError, OSError):
        return None

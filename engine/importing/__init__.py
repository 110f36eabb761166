"""Importing existing PyTorch modules as designs (through torch.fx)."""

from engine.importing.importer import ImportResult, import_module, import_network

__all__ = ["ImportResult", "import_module", "import_network"]

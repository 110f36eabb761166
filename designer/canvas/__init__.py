"""The node-graph canvas: one tab per network, each a view of a scene that mirrors the design.

`NetworkTabs` is what the main window embeds; `LAYER_MIME` and `BLOCK_MIME` are the drag formats
the palette uses.
"""

from designer.canvas.scene import NetworkScene
from designer.canvas.tabs import NetworkTabs
from designer.canvas.view import BLOCK_MIME, LAYER_MIME, NetworkView

__all__ = ["BLOCK_MIME", "LAYER_MIME", "NetworkScene", "NetworkTabs", "NetworkView"]

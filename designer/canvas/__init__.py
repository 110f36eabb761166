"""The node-graph canvas: one tab per network, each a view of a scene that mirrors the design.

`NetworkTabs` is what the main window embeds; `LAYER_MIME` is the drag format the palette uses.
"""

from designer.canvas.scene import NetworkScene
from designer.canvas.tabs import NetworkTabs
from designer.canvas.view import LAYER_MIME, NetworkView

__all__ = ["LAYER_MIME", "NetworkScene", "NetworkTabs", "NetworkView"]

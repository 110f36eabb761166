"""NeuralCanvas designer: the PySide6 application (imports engine; engine never imports it)."""

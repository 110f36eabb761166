"""Plain-PyTorch training code shared word for word by in-app runs and exported scripts.

Nothing here imports NeuralCanvas: `engine.training.script` copies the functions a design needs
into the exported file, and the in-app trainer calls the very same functions, so what the user
exports is exactly what they trained.
"""

"""Developer tools that use the designer's drawing code outside the app."""

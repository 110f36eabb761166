"""Turning designs into Python source: safe identifiers and the forward code."""

"""kb: a knowledge base of good practices for the inclusion of refugees."""

__version__ = "0.1.0"

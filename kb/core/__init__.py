"""The core: settings, the database (engine, sessions, models, migrations) and vocabularies.

Everything else builds on it; it imports nothing of kb's outside kb.core.
"""

"""The core: settings, the database (engine, sessions, models, migrations), vocabularies and
the handbook's quality rule (quality), which curators' scoring and the assessment table share.

Everything else builds on it; it imports nothing of kb's outside kb.core.
"""

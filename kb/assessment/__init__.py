"""Self-assessment: checklist answers and notes, the handbook's reading of a result, and the
practices recommended for unmet items.

May import kb.core, kb.search and kb.catalogue; never kb.web or kb.cli.
"""

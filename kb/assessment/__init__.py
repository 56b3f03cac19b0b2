"""Self-assessment: checklist answers and notes (assess), the complete record and its versioned
writes (record), rounds over time (rounds), teams and share links (teams), the handbook's
reading of a result, the practices recommended for unmet items (recommend), and the assessment
table on the quality criteria (quality_check).

May import kb.core, kb.search and kb.catalogue; never kb.web or kb.cli.
"""

"""Evaluation: relevance judgments (`judgments`) and the metrics of search and
recommendations (`metrics`, `kb eval`).

May import kb.core, kb.search and kb.assessment (it measures recommendations); never kb.web.
"""

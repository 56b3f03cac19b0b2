"""Curation: curators' accounts, the review workflow, quality scoring, export and import.

Owns who may change a practice and how; writes records (kb.core) and keeps search current
through the search service (kb.search). May import kb.core, kb.search and kb.catalogue;
never kb.web or kb.cli.
"""

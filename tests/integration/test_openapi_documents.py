"""The OpenAPI documents do not change behind the clients' backs: both are byte for byte the
committed copies (a refactoring must leave them alone; a deliberate API change rewrites the
copies, see `tests/openapi_documents.py`)."""

import pytest

from tests.openapi_documents import APPS, committed, served


@pytest.mark.parametrize("api", APPS)
def test_the_openapi_document_is_the_committed_one_byte_for_byte(api: str) -> None:
    assert served(api) == committed(api)

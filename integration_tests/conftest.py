"""Every integration test talks to a local Zoho Desk simulator that the tests start themselves."""

from __future__ import annotations

import pytest

from integration_tests.simulator import ZohoDeskSimulator


@pytest.fixture
def simulator():
    with ZohoDeskSimulator(seed=7) as sim:
        yield sim

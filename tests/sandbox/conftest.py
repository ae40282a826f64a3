# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Fixtures for the sandbox's own tests: one running sandbox, reset before each test."""

from __future__ import annotations

import pytest

from sandbox_helpers import Client
from wotrus_sandbox.config import DEFAULT_PRODUCTS
from wotrus_sandbox.collection import protocol
from wotrus_sandbox.testing import SandboxProcess


@pytest.fixture(scope="session")
def sandbox():
    with SandboxProcess() as sb:
        yield sb


@pytest.fixture
def sb(sandbox):
    """The shared sandbox, reset and with default knobs."""
    sandbox.mgmt_post("/reset")
    sandbox.mgmt_post("/config", {
        "delays": {"default": 0, "pendingSubmitOrderToCA": 0, "pendingDCV": 0, "pendingCAIssued": 0,
                   "pendingAutoIssue": 0, "pending": 0},
        "revoke_delay": 0, "validity_minutes": None, "answer_casing": "v106", "status_key": "status",
        "page_style": "seeds", "rsa_order_id_field": "orderId", "accept_unknown_keys": False,
        "check_csr_names": True, "check_file_magic": True, "unpaid": False, "cross_sign": False,
        "push_url": None, "push_retry_delay": 1.0, "push_secret": "sandbox-push-secret",
        "push_header": protocol.PUSH_SIGNATURE_HEADER, "products": DEFAULT_PRODUCTS})
    return sandbox


@pytest.fixture
def client(sb):
    return Client(sb)

"""The report test runs on the role tests' fixtures (tests/role/conftest.py) with two SSH test hosts.
Ports: ROLE_TEST_SSH_PORT / ROLE_TEST_HTTPS_PORT / ROLE_TEST_HTTP_PORT, as the role tests."""

from __future__ import annotations

import importlib.util
import pathlib
import sys

_HERE = pathlib.Path(__file__).resolve().parent
sys.path.insert(0, str(_HERE))
_spec = importlib.util.spec_from_file_location("role_conftest", str(_HERE.parent / "role" / "conftest.py"))
role_conftest = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(role_conftest)
role_conftest.N_HOSTS = 2

role_env = role_conftest.role_env

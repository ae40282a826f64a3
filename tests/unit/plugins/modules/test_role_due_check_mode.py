# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""roles/certificate/tasks/due.yml in check mode: the directories are not made, so the deploy of a
certificate with a file in a missing directory (a new output's) is skipped, as its keys and CSRs are;
outside check mode, or with every directory there, it runs."""

from __future__ import annotations

import pathlib

import jinja2
import pytest
import yaml

DUE = pathlib.Path(__file__).resolve().parents[4] / "roles" / "certificate" / "tasks" / "due.yml"


def deploy_runs(check_mode, due, missing_dirs, record=None):
    tasks = yaml.safe_load(DUE.read_text())
    task = [t for t in tasks if "wotrus.pki.certificate_deploy" in t][0]
    conditions = task["when"] if isinstance(task["when"], list) else [task["when"]]
    variables = dict(
        ansible_check_mode=check_mode, _certificate_idx=0,
        _certificate_status=dict(results=[dict(due=due, missing_dirs=missing_dirs)]),
        _certificate_issue=dict(results=[dict(record=record) if record is not None else {}]))
    env = jinja2.Environment()
    return all(env.compile_expression(c.strip())(**variables) for c in conditions)


@pytest.mark.parametrize("check_mode, missing, runs", [
    (True, ["/etc/haproxy/certs"], False),   # check mode: the directory is not made, the deploy would refuse it
    (True, [], True),
    (False, ["/etc/haproxy/certs"], True),   # made by the task before
])
def test_check_mode_skips_a_deploy_into_a_missing_directory(check_mode, missing, runs):
    assert deploy_runs(check_mode, "outputs", missing) is runs


def test_an_issued_order_is_deployed_and_nothing_else_is():
    assert deploy_runs(False, "new", [], record={"order_id": "1"}) is True
    assert deploy_runs(False, "none", []) is False

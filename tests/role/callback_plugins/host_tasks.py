# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Test callback (tests/role): writes, per host, the tasks that ran for it (not skipped) and where each ran,
as JSON lines to $WOTRUS_HOST_TASKS_LOG: a task whose action has no action plugin of its own (the `normal`
one) sends a module to the host; include_tasks, set_stats, validate_argument_spec and the collection's
action plugins run on the controller only."""

from __future__ import annotations

import json
import os

from ansible import constants as C
from ansible.plugins.callback import CallbackBase
from ansible.plugins.loader import action_loader

DOCUMENTATION = r'''
name: host_tasks
type: aggregate
short_description: Lists the tasks that ran per host and whether each ran a module on the host (tests only)
description: Writes JSON lines to the file named by the environment variable WOTRUS_HOST_TASKS_LOG.
'''


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "aggregate"
    CALLBACK_NAME = "host_tasks"
    CALLBACK_NEEDS_ENABLED = True

    def _where(self, task):
        action = task.action
        if action in C._ACTION_ALL_INCLUDE_IMPORT_TASKS or action in C._ACTION_META:  # pylint: disable=protected-access
            return "controller"
        context = action_loader.find_plugin_with_context(action, collection_list=task.collections)
        if context.resolved and not context.plugin_resolved_name.endswith(".normal") and \
                context.plugin_resolved_name != "normal":
            return "controller"
        return "host"

    def _log(self, result, outcome):
        path = os.environ.get("WOTRUS_HOST_TASKS_LOG")
        if not path:
            return
        task = result._task  # pylint: disable=protected-access
        with open(path, "a") as handle:
            handle.write(json.dumps(dict(host=result._host.get_name(), task=task.get_name(),  # pylint: disable=protected-access
                                         action=task.action, where=self._where(task), outcome=outcome)) + "\n")

    def v2_runner_on_ok(self, result):
        self._log(result, "ok")

    def v2_runner_on_failed(self, result, ignore_errors=False):
        self._log(result, "failed")

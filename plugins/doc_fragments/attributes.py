# -*- coding: utf-8 -*-
# Copyright: (c) 2026, wotrus.pki contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations


class ModuleDocFragment:
    # Attributes shared by the collection's modules; check_mode and diff_mode
    # stay in each module where their meaning differs (READ_ONLY: where it does not).

    # A module that runs on the managed host (or where it is delegated to).
    PLATFORM_POSIX = r'''
attributes:
  platform:
    support: full
    platforms: posix
    description: Runs on the host it targets (or the one it is delegated to), a Linux or other POSIX system.
'''

    # A module that only reads: the same in check mode, nothing to diff.
    READ_ONLY = r'''
attributes:
  check_mode:
    support: full
    description: Only reads.
  diff_mode:
    support: none
    description: Nothing changes.
'''

    # An action plugin: runs on the controller, whatever the managed host is (action and platform).
    PLATFORM_CONTROLLER = r'''
attributes:
  action:
    support: full
    description: Runs on the controller.
  platform:
    support: full
    platforms: all
    description: An action plugin; runs on the controller, whatever the target's platform is.
'''

    ACTION_GROUP_SECTIGO = r'''
attributes:
  action_group:
    support: full
    membership:
      - wotrus.pki.sectigo
    description: Use C(group/wotrus.pki.sectigo) in C(module_defaults) to set the Sectigo connection options.
'''

    ACTION_GROUP_JINTONG = r'''
attributes:
  action_group:
    support: full
    membership:
      - wotrus.pki.jintong
    description: Use C(group/wotrus.pki.jintong) in C(module_defaults) to set the 今通国际 connection options.
'''

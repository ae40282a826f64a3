# -*- coding: utf-8 -*-
# Copyright: (c) 2026, wotrus.pki contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r'''
name: certificate_plan
short_description: The certificate role's plan, as lines to print, from its run summary
version_added: 0.1.0
description:
  - Used by C(playbooks/site.yml) to end a run in check mode with a plan, the way C(terraform plan) reads
    (docs/role.md, "Check mode as a plan").
  - One line per host, then one per certificate, marked C(+) new, C(~) renew or outputs, C(-/+) reissue,
    C(-) revoke, C(>) resume, C(!) failed, and nothing for a certificate with nothing to do; the line says
    the action, when it renews when nothing is due, the month that would be ordered, whether the key
    rotates (C(new key) or C(same key)), and why.
  - "Then the totals, for example C(Plan: 2 new, 1 renew, 0 reissue, 0 revoke, 1 resume, 37 unchanged)."
options:
  _input:
    description:
      - The run's summary, C(wotrus_pki_summary) (a dict of host to its entries), the role's set_stats data,
        or a list of the registered results of the role's summary task (one per host, from C(hostvars)).
    type: raw
    required: true
  hosts:
    description:
      - The hosts the plan is of, in order (C(ansible_play_hosts_all)); each one without a summary (unreachable,
        or failed before the role's summary) gets a line saying so, and the totals count them.
    type: list
    elements: str
  prefix:
    description: The word before the totals.
    type: str
    default: Plan
author:
  - wotrus.pki contributors (@wotrus)
'''

EXAMPLES = r'''
- name: Print the plan of the hosts the role ran on (as playbooks/site.yml does in check mode)
  ansible.builtin.debug:
    msg: >-
      {{ (groups['all'] | map('extract', hostvars) | selectattr('_certificate_summary', 'defined')
          | map(attribute='_certificate_summary') | list | wotrus.pki.certificate_plan).text }}
'''

RETURN = r'''
_value:
  description:
    - C(lines), the plan's lines (the totals last), C(text), the same lines as one string (as
      C(playbooks/site.yml) prints it), and C(totals), the count of each action over all hosts
      (C(new), C(renew), C(reissue), C(revoke), C(resume), C(outputs), C(nothing), C(failed)), and
      C(hosts_without_plan), the hosts of O(hosts) without a summary.
  type: dict
  sample:
    lines:
      - "web1:"
      - "  +   www: new, month 12, new key  # no certificate at /etc/ssl/wotrus/www.crt"
      - "  ~   api: renew now, month 13, new key  # 25.4 days left, fewer than renew_before_days 30"
      - "      mail: nothing, renews on 2027-03-02T23:59:59Z"
      - "Plan: 1 new, 1 renew, 0 reissue, 0 revoke, 0 resume, 1 unchanged"
    text: "web1:\\n  +   www: new, month 12, new key  # no certificate at /etc/ssl/wotrus/www.crt\\n..."
    totals: {new: 1, renew: 1, reissue: 0, revoke: 0, resume: 0, outputs: 0, nothing: 1, failed: 0}
    hosts_without_plan: []
'''

from ansible_collections.wotrus.pki.plugins.module_utils import _role_plan as role_plan


def certificate_plan(data, prefix="Plan", hosts=None):
    return role_plan.render(data, str(prefix), hosts)


class FilterModule:
    def filters(self):
        return {"certificate_plan": certificate_plan}

# -*- coding: utf-8 -*-
# Copyright: (c) 2026, wotrus.pki contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r'''
name: certificate_summary
short_description: The certificate role's run summary of a host, as set_stats data
version_added: 0.1.0
description:
  - Used by the role C(wotrus.pki.certificate) to publish what happened to each certificate of a host with
    M(ansible.builtin.set_stats), so that an AWX workflow can branch on it and a notification template can say
    what happened. See the role's documentation (docs/role.md, "The run's summary").
  - Each certificate gets one entry with C(name), C(common_name), C(result) (C(issued), C(renewed), C(revoked),
    C(unchanged), C(waiting), C(failed), or C(planned) in check mode), C(due), C(order_id), C(not_after),
    C(renew_on), C(link) (the page a person must act on, when waiting), C(reason) (why it failed or waits) and
    C(deployed) (new files were put in place in this run).
  - Each entry also carries its plan (what the run does or, in check mode, would do), as the filter
    P(wotrus.pki.certificate_plan#filter) prints it; C(action) (C(nothing), C(new), C(renew), C(reissue),
    C(revoke), C(resume) or C(outputs)), C(why) (the reason, in a sentence), C(month) (the months a new or
    renewal order buys) and C(key_rotates) (the certificate is deployed with a new key).
  - No key, certificate, CSR, token or order record goes in.
options:
  _input:
    description: The certificates of the role's preflight plan.
    type: list
    elements: dict
    required: true
  host:
    description: The host the summary is of (C(inventory_hostname)).
    type: str
    required: true
  certificate_list:
    description: The role's C(certificate_list), for the names when the preflight failed.
    type: list
    elements: raw
  status:
    description: The registered result of the role's status task.
    type: dict
  issue:
    description: The registered result of the role's issue task.
    type: dict
  deploy:
    description: The registered result of the role's deploy task.
    type: dict
  failed:
    description: The failed task's result when the role failed on the host (C(ansible_failed_result) in its rescue).
    type: dict
  check_mode:
    description: Whether the run is in check mode (due certificates are then C(planned)).
    type: bool
    default: false
  renewal:
    description:
      - C(renew_before_days), C(renew_before_percent) and C(renew_spread_days) of the role, so that a certificate
        deployed in this run gets its C(renew_on) (read from the new certificate).
    type: dict
author:
  - wotrus.pki contributors (@wotrus)
'''

EXAMPLES = r'''
- name: Publish the summary as the role does
  ansible.builtin.set_stats:
    data: >-
      {{ _certificate_plan.certificates | wotrus.pki.certificate_summary(
           host=inventory_hostname, status=_certificate_status, issue=_certificate_issue | default({}),
           deploy=_certificate_deploy | default({}), check_mode=ansible_check_mode) }}
    per_host: false
    aggregate: true
'''

RETURN = r'''
_value:
  description:
    - C(wotrus_pki_summary) (a dict of the host's name to its list of entries), and one counter per result,
      C(wotrus_pki_total_issued), C(wotrus_pki_total_renewed), C(wotrus_pki_total_revoked),
      C(wotrus_pki_total_unchanged), C(wotrus_pki_total_waiting), C(wotrus_pki_total_failed),
      C(wotrus_pki_total_planned), plus C(wotrus_pki_total_deployed). With C(aggregate) the counters add up over
      the hosts and the summaries merge.
  type: dict
  sample:
    wotrus_pki_summary:
      web1:
        - name: www
          common_name: www.example.com
          result: renewed
          due: renew
          order_id: "20260301000123"
          not_after: "2027-04-01T23:59:59Z"
          renew_on: "2027-03-02T23:59:59Z"
          link: null
          reason: null
          deployed: true
          action: renew
          why: "25.4 days left, fewer than renew_before_days 30"
          month: 13
          key_rotates: true
    wotrus_pki_total_issued: 0
    wotrus_pki_total_renewed: 1
    wotrus_pki_total_revoked: 0
    wotrus_pki_total_unchanged: 0
    wotrus_pki_total_waiting: 0
    wotrus_pki_total_failed: 0
    wotrus_pki_total_planned: 0
    wotrus_pki_total_deployed: 1
'''

from ansible_collections.wotrus.pki.plugins.module_utils import _role_summary as role_summary


def certificate_summary(certificates, host, certificate_list=None, status=None, issue=None, deploy=None,
                        failed=None, check_mode=False, renewal=None):
    entries = role_summary.summarize(certificates, status=status, issue=issue, deploy=deploy, failed=failed,
                                     check_mode=bool(check_mode), certificate_list=certificate_list,
                                     host=str(host), renewal=renewal)
    return role_summary.stats(str(host), entries)


class FilterModule:
    def filters(self):
        return {"certificate_summary": certificate_summary}

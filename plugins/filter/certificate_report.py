# -*- coding: utf-8 -*-
# Copyright: (c) 2026, wotrus.pki contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r'''
name: certificate_report
short_description: The certificate report as an HTML page, JSON or a Prometheus textfile
version_added: 0.1.0
description:
  - Used by C(playbooks/report.yml) (see docs/report.md). Turns what each host read (the role's status of each
    certificate, M(wotrus.pki.certificate_report_read)'s details, or the error of a host that failed) into rows
    with an urgency (C(failed), C(expired), C(critical), C(waiting), C(warning), C(ok)) and renders them.
  - C(html) is one self-contained page (inline CSS, script and SVG; nothing is fetched) with the counts by
    urgency, an expiry timeline, the orders waiting for a person, the failures and a sortable, filterable table.
    Every value is HTML-escaped.
  - C(prom) is the text exposition format of node_exporter's textfile collector; C(json) the rows and counts.
options:
  _input:
    description:
      - A dict of host name to C({status, details, extra}) (the registered results) or C({error}) for a host
        that could not be read.
    type: dict
    required: true
  format:
    description: What to render.
    type: str
    choices: [html, json, prom, data]
    default: json
  now:
    description: The time the report is made at (ISO 8601, UTC); the controller's clock when not given.
    type: str
  title:
    description: The page's title (C(html)).
    type: str
    default: Certificate report
author:
  - wotrus.pki contributors (@wotrus)
'''

EXAMPLES = r'''
- name: Write the report page
  ansible.builtin.copy:
    content: "{{ report_hosts | wotrus.pki.certificate_report(format='html') }}"
    dest: /var/www/report/index.html
    mode: "0644"
  delegate_to: localhost
'''

RETURN = r'''
_value:
  description: The page, the JSON text or the Prometheus text; with O(format=data) the report as a dict.
  type: raw
'''

from ansible.errors import AnsibleFilterError

from ansible_collections.wotrus.pki.plugins.module_utils import _report


def certificate_report(hosts, format="json", now=None, title="Certificate report"):  # pylint: disable=redefined-builtin
    if not isinstance(hosts, dict):
        raise AnsibleFilterError("certificate_report: its input must be a dict of host name to what the host read")
    try:
        return _report.render(hosts, format, now=now, title=str(title))
    except ValueError as exc:
        raise AnsibleFilterError("certificate_report: %s" % exc)


class FilterModule:
    def filters(self):
        return {"certificate_report": certificate_report}

#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, wotrus.pki contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r'''
module: certificate_credentials
short_description: Prove the certificate role's API token and TLS trust with one read call, on the controller
version_added: 0.1.0
description:
  - An action plugin; runs on the controller and touches no host. A step of the role C(wotrus.pki.certificate),
    which runs it once per play (C(run_once)) when at least one host of the batch has a certificate, before the
    status task that makes the keys and CSRs on the hosts; so also when nothing is due (one read per play), and
    in check mode too.
  - Makes one read call, the GET of an order that cannot exist. HTTP 401 (a wrong or missing token) fails with
    a message naming C(certificate_api_token); a TLS verification failure fails naming C(certificate_ca_path);
    any other answer of the API (the order is not found) proves both. The token never appears in the result.
  - A network failure or an HTTP 5xx is a warning, not a failure; the hosts that need the API then report it
    at their own call.
author:
  - wotrus.pki contributors (@wotrus)
extends_documentation_fragment:
  - wotrus.pki.attributes.platform_controller
options:
  api_url:
    description: The API address, C(certificate_api_url); unset means E(WOTRUS_API_URL), else the production URL.
    type: str
  api_token:
    description: The API token, C(certificate_api_token); unset means E(WOTRUS_API_TOKEN) on the controller.
    type: str
  validate_certs:
    description: Verify the API's TLS certificate, C(certificate_validate_certs).
    type: bool
    default: true
  ca_path:
    description: The CA bundle that signs the API's certificate, C(certificate_ca_path); unset means E(WOTRUS_CA_PATH), else the system's CAs.
    type: path
  timeout:
    description: Seconds for the call, C(certificate_api_timeout).
    type: float
    default: 30
attributes:
  check_mode:
    support: full
    description: The read call is made in check mode too; nothing changes.
  diff_mode:
    support: none
    description: Nothing changes.
seealso:
  - module: wotrus.pki.certificate_preflight
  - module: wotrus.pki.certificate_issue
'''

EXAMPLES = r'''
- name: Prove the token before any key is made
  wotrus.pki.certificate_credentials:
    api_url: https://restapi.wosign.com
    api_token: "{{ wotrus_token }}"
  run_once: true
  register: credentials
'''

RETURN = r'''
checked:
  description: True when the API answered and so proved the token and the TLS trust; false after a network failure or a 5xx (then a warning says why).
  type: bool
  returned: always
  sample: true
request_id:
  description: The RequestID of the call, for the provider's log.
  type: str
  returned: when a call was made
  sample: 6f1c0e4f0c9b4b7e8d1a2b3c4d5e6f70
'''

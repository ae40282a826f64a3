#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, wotrus.pki contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r'''
module: certificate_preflight
short_description: Check the certificate role's inputs on the controller and fill in the defaults
version_added: 0.1.0
description:
  - An action plugin; runs on the controller and touches no host. The first step of the role
    C(wotrus.pki.certificate).
  - "Checks every certificate of O(certificates) and the role settings of O(settings), and fails
    listing every problem at once, each naming the variable (for example
    C(certificate_list[1].key_size: must be one of 256, 384 for key_type ecdsa, got 2048))."
  - Returns the role's one plan, which the later steps trust and do not check again. RV(certificates)
    is the list with every default filled in (paths, key type and size, product, month, modes, owner,
    services), names normalised (lower case, IDNA, IP addresses in canonical form) and typed for the CSR
    (RV(certificates[].csr_subject_alt_names)); RV(reissue_issued_before) is parsed once; RV(api_url) and
    RV(ca_path) are the API address and CA bundle after the controller's environment is read (E(WOTRUS_API_URL),
    E(WOTRUS_CA_PATH)).
  - Names, product ID, month and organisation are checked with the collection's input checks (the
    ones the API modules use), so that certificate_issue does not refuse later what passed here; the
    month must be 12 or 24 (the role orders 13 or 25 itself on renewal).
  - C(certificate_api_url) must be C(https://) (plain C(http://) only to the loopback), and
    C(certificate_reissue_issued_before), when set, an ISO 8601 date-time; C(certificate_renew_spread_days) a whole
    number from 0 to 365. C(certificate_revoke_proof_path)
    and C(certificate_reissue_proof_path) must be files whose content matches their extension; the
    message names the role variable.
author:
  - wotrus.pki contributors (@wotrus)
options:
  certificates:
    description: The role's C(certificate_list).
    type: raw
    required: true
  defaults:
    description:
      - Values used for a key a certificate does not set. Keys C(dir), C(key_type), C(key_size),
        C(product_id), C(month), C(organization), C(owner), C(group), C(mode), C(key_mode), C(services),
        C(outputs), C(dcv), C(dcv_webroot).
    type: dict
    required: true
  settings:
    description:
      - Role-wide settings to check, by variable name (C(certificate_renew_before_days),
        C(certificate_revoke), C(certificate_revoke_proof_path), ...).
      - When a certificate uses C(dcv=http), C(certificate_sectigo_api_url), C(certificate_sectigo_login_name)
        and C(certificate_sectigo_login_password_set) (a boolean, never the password) are checked too.
      - C(certificate_pkcs12_password_set) (a boolean, never the password) must be true when a certificate
        has a C(pkcs12) output; C(certificate_pkcs12_encryption) must be C(modern) or C(legacy).
    type: dict
    default: {}
extends_documentation_fragment:
  - wotrus.pki.attributes.platform_controller
attributes:
  check_mode:
    support: full
    description: Only checks.
  diff_mode:
    support: none
    description: Nothing changes.
seealso:
  - module: wotrus.pki.certificate_status
  - module: wotrus.pki.certificate_issue
  - module: wotrus.pki.certificate_deploy
'''

EXAMPLES = r'''
- name: Check the inputs
  wotrus.pki.certificate_preflight:
    certificates:
      - name: www
        common_name: www.example.com
    defaults:
      dir: /etc/ssl/wotrus
      product_id: 30B3F256-9D2D-43C5-ABCB-017AA9D3CB6D
      organization: {org_name: Example Ltd, country_code: CN}
      mode: "0644"
      key_mode: "0600"
  register: plan
'''

RETURN = r'''
certificates:
  description: The certificates with every default filled in.
  type: list
  elements: dict
  returned: always
  contains:
    services:
      description:
        - The services, each C({name, preset, test, reload, unit, files}). C(preset) is resolved (a name that is a
          preset's means that preset, else C(custom)); C(test), C(reload) (argv lists) and C(unit) are null unless
          the service sets them (certificate_deploy then uses the preset's commands and unit on the host);
          C(files) is the service's own list, else the preset's (C(key), C(cert), C(chain), C(fullchain),
          C(combined) for nginx, apache2, haproxy and postfix; every output for systemd and custom).
      type: list
      elements: dict
      sample: [{"name": "haproxy", "preset": "haproxy", "test": null, "reload": null, "unit": null,
                "files": ["key", "cert", "chain", "fullchain", "combined"]},
               {"name": "tomcat", "preset": "systemd", "test": null, "reload": null, "unit": "tomcat10",
                "files": ["pkcs12"]}]
    combined_path:
      description: Where the combined PEM goes, or null when the certificate has no C(combined) output.
      type: str
      sample: /etc/ssl/wotrus/www.combined.pem
    pkcs12_path:
      description: Where the PKCS#12 file goes, or null.
      type: str
      sample: /etc/ssl/wotrus/www.p12
    pkcs12_friendly_name:
      description: The PKCS#12 file's friendly name (default the certificate's name), or null.
      type: str
      sample: www
    der_path:
      description: Where the DER certificate goes, or null.
      type: str
      sample: /etc/ssl/wotrus/www.der
    subject_alt_names:
      sample: ["www.example.com", "example.com"]
      description: The names, normalised, the common name first.
      type: list
      elements: str
    csr_subject_alt_names:
      sample: ["DNS:www.example.com", "DNS:example.com"]
      description: The same names typed for a CSR, C(DNS:www.example.com) or C(IP:192.0.2.7).
      type: list
      elements: str
api_url:
  sample: "https://restapi.wosign.com"
  description: The WoTrus API address, C(certificate_api_url) or else E(WOTRUS_API_URL), else the production URL.
  type: str
  returned: always
ca_path:
  sample: "/etc/pki/wotrus/ca.pem"
  description: The CA bundle, C(certificate_ca_path) or else E(WOTRUS_CA_PATH), or null.
  type: str
  returned: always
reissue_issued_before:
  sample: "2026-03-01T08:00:00Z"
  description: C(certificate_reissue_issued_before) in UTC as C(YYYY-MM-DDTHH:MM:SSZ), or null when unset.
  type: str
  returned: always
renew_spread_days:
  description: C(certificate_renew_spread_days) as a whole number of days (0, off, when unset).
  type: int
  returned: always
  sample: 30
errors:
  sample: ["certificate_list[1].key_size: must be one of 256, 384 for key_type ecdsa, got 2048"]
  description: Every problem found, each naming its variable.
  type: list
  elements: str
  returned: on failure
'''

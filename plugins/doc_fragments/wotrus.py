# -*- coding: utf-8 -*-
# Copyright: (c) 2026, wotrus.pki contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations


class ModuleDocFragment:
    # The WoTrus connection options, shared by every wotrus_* module. The
    # argument spec is wotrus_argument_spec() in plugins/module_utils/_wotrus_module.py.
    DOCUMENTATION = r'''
attributes:
  action_group:
    support: full
    membership:
      - wotrus.pki.wotrus
    description: Use C(group/wotrus.pki.wotrus) in C(module_defaults) to set the connection options.
options:
  api_url:
    description:
      - The base URL of the WoTrus partner API.
      - If not set, the environment variable E(WOTRUS_API_URL) is used, then the default.
      - Must be C(https://), or plain C(http://) only to C(localhost) or a loopback address
        (C(127.0.0.0/8), C(::1)); the token would travel in clear anywhere else.
    type: str
    default: https://restapi.wosign.com
  api_token:
    description:
      - The partner API token, sent in the C(WoTrusToken) header of every call and nowhere else.
      - If not set, the environment variable E(WOTRUS_API_TOKEN) is used.
      - It never appears in results, warnings or error messages.
    type: str
    required: true
  validate_certs:
    description:
      - Whether to verify the TLS certificate of the API.
      - Setting it to V(false) makes the module warn; use it for tests only, and prefer O(ca_path).
      - V(false) wins over O(ca_path), as for C(ansible.builtin.uri). Nothing is verified then, and the
        warning says that O(ca_path) is ignored.
    type: bool
    default: true
  ca_path:
    description:
      - A PEM file of CA certificates to verify the API with (for example the sandbox's roots).
      - If not set, the environment variable E(WOTRUS_CA_PATH) is used.
      - Used only while O(validate_certs) is V(true). A path that does not exist or holds no
        PEM certificate fails before any call.
    type: path
  timeout:
    description:
      - Seconds to wait to connect (at most 10) and for each answer. Must be greater than 0.
    type: float
    default: 30
requirements:
  - requests >= 2.31 (with urllib3 >= 1.26)
  - cryptography >= 42
notes:
  - "All these modules talk to the API from where the task runs, usually the controller
    (C(delegate_to: localhost)). Set the connection options once with
    C(module_defaults: {group/wotrus.pki.wotrus: {...}})."
  - Every call carries a fresh C(RequestID) header, named in every error together with the
    HTTP status, URL and the provider's C(errorMsg).
  - Reads (GET) and the calls that carry an C(idempotenceID) (Create, Reissue) are retried
    up to 4 times on connection errors, HTTP 408, 429 and 5xx, with capped exponential backoff
    (1 second doubling, at most 30) and jitter, honouring C(Retry-After) up to 120 seconds.
    Cancel and revoke requests are sent again only after the order was read again (waiting what
    C(Retry-After) asked for); an order found already closed or revoked is success.
    Nothing follows a redirect to another origin, and POSTs follow no redirect.
  - A 429 or 503 answer with C(Retry-After) (a rate limit) is waited out, plus up to 1 second of jitter
    so that many jobs throttled together come back spread out, without counting against the 4 retries,
    for at most 300 seconds of such waits per call; past that it counts like any retry.
'''

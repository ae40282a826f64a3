# -*- coding: utf-8 -*-
# Copyright: (c) 2026, wotrus.pki contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations


class ModuleDocFragment:
    # The Sectigo connection options; the argument spec is
    # plugins/module_utils/_sectigo/module_args.py (keep both in step).
    DOCUMENTATION = r'''
options:
  api_url:
    description:
      - The URL of the Sectigo C(!getPostPaymentStatus) endpoint.
      - Sectigo answers errorCode C(-1) to anything but HTTPS.
      - If not set, the environment variable E(SECTIGO_API_URL) is used, then the live URL.
    type: str
    default: https://secure.trust-provider.com/products/!getPostPaymentStatus
  login_name:
    description:
      - The Sectigo partner account user name (case sensitive).
      - Required with O(login_password) unless O(sasp_session_id) is given.
      - If not set, the environment variable E(SECTIGO_LOGIN_NAME) is used.
    type: str
  login_password:
    description:
      - The Sectigo partner account password (case sensitive).
      - If not set, the environment variable E(SECTIGO_LOGIN_PASSWORD) is used.
    type: str
  sasp_session_id:
    description:
      - A SASP session handle, used instead of O(login_name) and O(login_password).
      - When it is set, the login fields are not sent, as the API text asks.
    type: str
  validate_certs:
    description:
      - Whether to verify the TLS certificate of the Sectigo service.
    type: bool
    default: true
  ca_path:
    description:
      - A PEM file of CA certificates to verify the service with (for example a sandbox CA).
      - A path that does not exist or holds no PEM certificate fails before any call.
    type: path
  timeout:
    description:
      - Seconds to wait for one HTTP answer. Must be greater than 0.
    type: int
    default: 30
requirements:
  - requests >= 2.31 (with urllib3 >= 1.26)
notes:
  - The status read is retried like a GET on connection errors and HTTP 408, 429 and 5xx (honouring
    C(Retry-After)); a document upload is sent again only when it cannot have reached the service.
    A 429 or 503 with C(Retry-After) is waited out (plus up to 2 seconds of jitter) without counting
    as a retry, for at most 300 seconds of such waits per call.
  - Sectigo answers errorCode C(-42) when the partner's call limit is reached; the call
    is retried up to 5 times with a capped exponential backoff (2 seconds doubling,
    at most 30 seconds per wait, with jitter). Every other error code fails at once
    with a message naming it.
'''

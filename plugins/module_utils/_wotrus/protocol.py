# -*- coding: utf-8 -*-
# Copyright: (c) 2026, wotrus.pki contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""How this collection reads the WoTrus API texts, in one place.

Every choice the provider's texts leave open (see docs/assumptions.md)
is a constant or a small function here, so that the
client, the modules, the role and the sandbox all change together when the
real service answers differently. This file imports nothing but the standard
library: the sandbox imports it too.
"""

# No `from __future__ import annotations`: this file runs on managed hosts, and one with
# Python 3.6 or 3.7 (ansible-core 2.16 allows them) must get certificate_status's refusal, not a SyntaxError.

import datetime
import hashlib
import hmac
import ipaddress

DEFAULT_API_URL = "https://restapi.wosign.com"

# Which api_url the collection accepts. HTTPS only in the texts; the token
# travels in every request, so plain http:// is accepted only where nothing
# leaves this machine: localhost or a loopback address (127.0.0.0/8, ::1) --
# the sandbox and local proxies. The one rule: the client, the role's
# preflight and every doc (module doc fragment, role argument spec,
# docs/modules.md) say this sentence.
PLAIN_HTTP_RULE = "https://, or plain http:// only to localhost or a loopback address (127.0.0.0/8, ::1)"


def plain_http_allowed(hostname):
    """True when ``http://hostname`` may carry the token (see PLAIN_HTTP_RULE)."""
    host = (hostname or "").strip().lower().rstrip(".")
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


# Order fields that hold a secret: the query echoes the Create parameters, the
# U-key password among them. Assumption: that is the only secret it echoes.
ORDER_SECRET_KEYS = ("uKeyPassword",)

# Assumption: the longest cancel / revoke / reissue reason the API takes (the
# texts give none; the sandbox refuses longer ones).
REASON_MAX_LENGTH = 1000

# Headers.
TOKEN_HEADER = "WoTrusToken"
REQUEST_ID_HEADER = "RequestID"

# Paths (V1.0.6 / V1.09).
PATH_CREATE = "/v1/Order/Create"
PATH_ORDER = "/v1/Order/{order_id}"
PATH_CANCEL = "/v1/Order/Cancel"
PATH_RETRIEVE_PEM = "/v1/Certificate/RetrievePem"
PATH_REVOKE = "/v1/Certificate/RevokeRequest"
PATH_REISSUE = "/v1/Certificate/ReissueRequest"
PATH_NOTIFY = "/v1/Notification/email"

# Order states named by the texts.
STATUS_PENDING_SUBMIT = "pendingSubmitOrderToCA"
STATUS_PENDING_DCV = "pendingDCV"
STATUS_PENDING_CA_ISSUED = "pendingCAIssued"
STATUS_PENDING_AUTO_ISSUE = "pendingAutoIssue"
STATUS_PENDING = "pending"
STATUS_PENDING_REVOKE = "pendingRevoke"
STATUS_ISSUED = "issued"
STATUS_REVOKED = "revoked"
STATUS_REJECTED = "rejected"
STATUS_CLOSED = "closed"
STATUS_UNKNOWN = "unknown"

KNOWN_STATUSES = frozenset([
    STATUS_PENDING_SUBMIT, STATUS_PENDING_DCV, STATUS_PENDING_CA_ISSUED,
    STATUS_PENDING_AUTO_ISSUE, STATUS_PENDING, STATUS_PENDING_REVOKE,
    STATUS_ISSUED, STATUS_REVOKED, STATUS_REJECTED, STATUS_CLOSED, STATUS_UNKNOWN,
])
# States after which waiting cannot lead to a certificate. Assumption: any status
# not in KNOWN_STATUSES (the old order after a reissue gets one the texts do not
# name) is reported as it is and treated as NOT final.
FINAL_STATUSES = frozenset([STATUS_ISSUED, STATUS_REVOKED, STATUS_REJECTED, STATUS_CLOSED])
# States in which waiting never gives a usable certificate: final states but
# issued, and a revocation under review. A run stops waiting (engine.wait,
# wotrus_certificate) and the role orders again.
DEAD_STATUSES = frozenset([STATUS_REJECTED, STATUS_CLOSED, STATUS_REVOKED, STATUS_PENDING_REVOKE])
# States in which a person has to act (validation page, manual review).
NEEDS_PERSON_STATUSES = frozenset([STATUS_PENDING_DCV, STATUS_PENDING])
# What Cancel refuses (seeds: an issued or revoked order cannot be cancelled).
NOT_CANCELLABLE_STATUSES = frozenset([STATUS_ISSUED, STATUS_REVOKED, STATUS_PENDING_REVOKE])
# After these a cancel has nothing left to do.
CANCEL_DONE_STATUSES = frozenset([STATUS_CLOSED, STATUS_REJECTED])
# Revocation in progress or done: a second revoke changes nothing.
REVOKE_DONE_STATUSES = frozenset([STATUS_PENDING_REVOKE, STATUS_REVOKED])
# States with no certificate to revoke (not issued yet, or never). Unknown
# states are let through: the API decides.
NOT_REVOCABLE_STATUSES = frozenset([
    STATUS_PENDING_SUBMIT, STATUS_PENDING_DCV, STATUS_PENDING_CA_ISSUED, STATUS_PENDING_AUTO_ISSUE,
    STATUS_PENDING, STATUS_CLOSED, STATUS_REJECTED,
])
# Only an issued certificate can be reissued: every named state but issued (and
# unknown). Unknown states are let through: the API decides.
NOT_REISSUABLE_STATUSES = KNOWN_STATUSES - frozenset([STATUS_ISSUED, STATUS_UNKNOWN])
# Assumption: status values are read case-insensitively, like the keys (the
# service binds like ASP.NET and its casing is not stable): a named status in
# any casing ("Issued", "PENDINGDCV") is read as its name above; any other value
# is kept as the service sent it.
_STATUS_BY_LOWER = dict((s.lower(), s) for s in KNOWN_STATUSES)


def canonical_status(value):
    """The status as this collection compares it: the name in KNOWN_STATUSES
    for a named status in any casing, otherwise the value as sent (None stays None)."""
    if value is None:
        return None
    text = str(value)
    return _STATUS_BY_LOWER.get(text.strip().lower(), text)


# Assumption: the status the sandbox gives the old order after a reissue. The
# texts (V1.04) say the old order's status is "supplemented" without naming it.
SANDBOX_REISSUED_STATUS = "reissued"

# Assumption: a createTime without a UTC offset is in the provider's zone,
# China Standard Time (UTC+08:00); the texts' examples carry no offset and name
# no zone. Used to tell whether a Create returned an order older than the run.
PROVIDER_TIMEZONE = datetime.timezone(datetime.timedelta(hours=8))

# isPay: 0 unpaid, 1 paid, 2 issued before payment.
IS_PAY_UNPAID = 0
IS_PAY_PAID = 1

# Create: month values (13 and 25 are renewals that carry over remaining time).
# The one source of the months: the modules' choices, the role's preflight (which
# lets users ask for ORDER_MONTHS and orders the renewal months itself) and the sandbox.
MONTHS = (12, 13, 24, 25)
RENEWAL_MONTHS = {12: 13, 24: 25}
ORDER_MONTHS = tuple(sorted(RENEWAL_MONTHS))

# Assumption: a Reissue refused for want of the revocation letter names the
# missing fileType / fileContent in its errorMsg (the texts require the letter
# for SM2 and Sectigo-backed products without naming the refusal). Only then
# does the error point at the proof option.
PROOF_REFUSAL_WORDS = ("filetype", "filecontent")


def refusal_wants_proof(error_msg):
    text = str(error_msg or "").lower()
    return any(word in text for word in PROOF_REFUSAL_WORDS)


BUSINESS_CATEGORIES = (
    "Business Entity", "Private Organization", "Government Entity", "Non-Commercial Entity",
)
# documentsPost[].documentType
DOCUMENT_TYPES = {"authorization_letter": 1, "business_license": 2, "id_card": 3}
# fileType values and the leading bytes that identify each kind of file.
FILE_TYPES = {
    ".jpg": (b"\xff\xd8\xff",),
    ".gif": (b"GIF87a", b"GIF89a"),
    ".pdf": (b"%PDF-",),
}
# Assumption: the largest proof/document file we send (the texts give no limit).
MAX_FILE_BYTES = 10 * 1024 * 1024

# organizationPost: snake_case option name -> camelCase key of the parameter table.
ORGANIZATION_KEYS = {
    "org_name": "orgName",
    "business_category": "businessCategory",
    "org_phone": "orgPhone",
    "org_email": "orgEmail",
    "user_first_name": "userFirstName",
    "user_last_name": "userLastName",
    "user_email": "userEmail",
    "user_mobile": "userMobile",
    "id_card_no": "idCardNO",
    "country_code": "countryCode",
    "state": "state",
    "city": "city",
    "street": "street",
    "zip": "zip",
    "business_license": "businessLicense",
    "other_name": "otherName",
}

# Assumption (the texts give no lengths): each organizationPost field is at
# most 256 characters, the limit the sandbox enforces (the issue's trial of the
# API refused longer ones). Checked before any call.
ORGANIZATION_FIELD_MAX_LENGTH = 256
# organizationPost fields that hold an e-mail address (the sandbox's check).
ORGANIZATION_EMAIL_KEYS = ("org_email", "user_email")
EMAIL_PATTERN = r"^[^@\s]+@[^@\s]+\.[^@\s]+$"
# Unicode categories refused in the organisation's fields: control characters
# (NUL, tabs, new lines), format characters (U+200B zero width space, U+202E
# right-to-left override) and line/paragraph separators. They would end up in
# a certificate's subject, where they hide or reverse what a person reads.
FORBIDDEN_CHAR_CATEGORIES = frozenset(["Cc", "Cf", "Zl", "Zp", "Co", "Cs"])

# Product IDs named in the texts. Any product ID may be passed.
PRODUCT_PDF_SIGNING = "76ECE651-B59E-48F2-A47B-135614AADAD9"
PRODUCT_ORG_DOCUMENT_SIGNING = "2C17C336-A772-42F8-B3DD-4F2591A5B116"
PRODUCT_PERSONAL_DOCUMENT_SIGNING = "D4D30B75-68D5-471C-B66A-21299F1DFAA5"
PRODUCT_SSL_EXAMPLE = "30B3F256-9D2D-43C5-ABCB-017AA9D3CB6D"
PRODUCT_ID_PATTERN = r"^[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}$"
# Products whose commonName is a person's or an organisation's name ("一般填单位名字"),
# not a host name. For every other product a commonName sent without a CSR must
# be a DNS name or an IP address.
NAME_CN_PRODUCTS = frozenset([PRODUCT_PDF_SIGNING, PRODUCT_ORG_DOCUMENT_SIGNING, PRODUCT_PERSONAL_DOCUMENT_SIGNING])

# Assumption: order IDs are GUIDs in the texts' examples (one with a leading
# letter); any ID of letters, digits and . _ : - up to 128 characters is taken.
ORDER_ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$"


def join_hosts(hosts):
    """Assumption: orderInfoPost.hosts (the SANs) is one comma-separated string."""
    return ",".join(h.strip() for h in hosts if h and h.strip())


def split_hosts(value):
    if not value:
        return []
    if isinstance(value, (list, tuple)):
        return [str(h).strip() for h in value if str(h).strip()]
    return [h.strip() for h in str(value).split(",") if h.strip()]


# Push (V1.04 says pushes are signed, without naming the algorithm).
# Assumption: HMAC-SHA256 over the raw body with a shared secret, hex encoded,
# in this header (header name and secret are configurable where used).
PUSH_SIGNATURE_HEADER = "X-WoTrus-Signature"
PUSH_MAX_ATTEMPTS = 3


def push_signature(secret, body):
    if isinstance(secret, str):
        secret = secret.encode("utf-8")
    return hmac.new(secret, body, hashlib.sha256).hexdigest()


def verify_push_signature(secret, body, signature):
    return hmac.compare_digest(push_signature(secret, body), (signature or "").strip().lower())


# The push body (API text 8.1): {dataAction: "order", orderId, isIssued, isRevoked};
# `orderID` in V1.09's casing (keys are read case-insensitively). The texts also
# name organisation pushes without giving their body: any other dataAction is
# passed on as it is, with its type.
PUSH_ACTION_ORDER = "order"


class PushShapeError(ValueError):
    """A push body that is not the shape of API text 8.1."""


def read_push(payload):
    """The facts of a push body: {data_action, order_id, issued, revoked} for an order push,
    {data_action, payload} for any other dataAction. Raises PushShapeError."""
    if not isinstance(payload, dict):
        raise PushShapeError("the body is not a JSON object")
    action = ci_get(payload, "dataAction")
    if not isinstance(action, str) or not action.strip():
        raise PushShapeError("dataAction is missing or not a string")
    action = action.strip()
    if action.lower() != PUSH_ACTION_ORDER:
        return dict(data_action=action, payload=payload)
    order_id = ci_get(payload, "orderId")
    if not isinstance(order_id, str) or not order_id.strip():
        raise PushShapeError("orderId is missing or not a string")
    facts = dict(data_action=PUSH_ACTION_ORDER, order_id=order_id.strip())
    for key, name in (("issued", "isIssued"), ("revoked", "isRevoked")):
        value = ci_get(payload, name)
        if not isinstance(value, bool):
            raise PushShapeError("%s is missing or not true/false" % name)
        facts[key] = value
    return facts


# Request keys are sent as the camelCase of the parameter tables; answer keys
# are read case-insensitively (the service binds like ASP.NET and its answers
# use both `orderId` and `orderID`, `csr_RSA` and `csR_RSA`, ...).
def lower_keys(value):
    """Return a copy of a JSON value with every dict key lower-cased, recursively."""
    if isinstance(value, dict):
        return dict((str(k).lower(), lower_keys(v)) for k, v in value.items())
    if isinstance(value, list):
        return [lower_keys(v) for v in value]
    return value


def ci_get(mapping, *names, **kwargs):
    """Read the first of `names` from `mapping`, ignoring key case."""
    default = kwargs.get("default")
    if not isinstance(mapping, dict):
        return default
    lowered = dict((str(k).lower(), v) for k, v in mapping.items())
    for name in names:
        if name.lower() in lowered:
            return lowered[name.lower()]
    return default


# Idempotency. Assumption, as for any idempotency key: a second Create (or
# Reissue) with the same idempotenceID returns the first order and creates
# nothing; the same key with different parameters is refused (isSuccess false).
# An empty idempotenceID (the seeds' example sends "") means "no key" to the
# API; the modules refuse an empty idempotence_id option instead (leave it unset
# to have one derived).
IDEMPOTENCE_ID_MAX_LENGTH = 64
IDEMPOTENCE_ID_PATTERN = r"^[A-Za-z0-9._:-]{1,64}$"

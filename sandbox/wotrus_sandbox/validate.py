# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Strict checks of request bodies, as the real service's binder and rules would do.

Every function raises ``Invalid`` with a sentence meant for ``errorMsg``.
Request keys are compared case-insensitively (``protocol.lower_keys``).
"""

from __future__ import annotations

import base64
import binascii
import json
import re

from wotrus_sandbox.collection import protocol


class Invalid(ValueError):
    pass


# Known keys per body, lower-cased (the parameter tables plus the V1.02 change log).
ORDER_INFO_KEYS = {"productid", "commonname", "csr_rsa", "csr_sign", "csr_encrypt", "hosts", "month",
                   "idempotenceid", "ukeypassword", "ukeyshipaddress", "bindrsaproductid"}
ORGANIZATION_KEYS = {v.lower() for v in protocol.ORGANIZATION_KEYS.values()}
DOCUMENT_KEYS = {"documenttype", "filetype", "filecontent"}
CREATE_KEYS = {"orderinfopost", "organizationpost", "documentspost"}
CANCEL_KEYS = {"orderid", "reason"}
REVOKE_KEYS = {"orderid", "reason", "filetype", "filecontent"}
REISSUE_KEYS = {"orderid", "csr", "csr_encrypt", "reason", "idempotenceid", "filetype", "filecontent"}
NOTIFY_KEYS = {"orderid", "collecturl"}


def parse_json_object(raw: bytes):
    """Parse a body; refuse non-objects and keys that collide once case is ignored."""
    def hook(pairs):
        seen = {}
        for k, _ in pairs:
            low = k.lower()
            if low in seen:
                raise Invalid("the body has the key %r twice (keys are case-insensitive: %r and %r)"
                              % (low, seen[low], k))
            seen[low] = k
        return dict(pairs)

    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise Invalid("the body is not UTF-8") from None
    try:
        value = json.loads(text, object_pairs_hook=hook)
    except json.JSONDecodeError as exc:
        raise Invalid("the body is not valid JSON: %s" % exc) from None
    if not isinstance(value, dict):
        raise Invalid("the body must be a JSON object")
    return protocol.lower_keys(value)


def check_keys(obj, allowed, where, accept_unknown):
    if accept_unknown:
        return
    unknown = sorted(set(obj) - allowed)
    if unknown:
        raise Invalid("unknown key%s in %s: %s (accepted: %s)" % (
            "s" if len(unknown) > 1 else "", where, ", ".join(unknown), ", ".join(sorted(allowed))))


def opt_str(obj, key, where, max_len=None):
    v = obj.get(key)
    if v is None:
        return ""
    if not isinstance(v, str):
        raise Invalid("%s.%s must be a string" % (where, key))
    if max_len and len(v) > max_len:
        raise Invalid("%s.%s is longer than %d characters" % (where, key, max_len))
    return v


def req_str(obj, key, where, max_len=None):
    v = opt_str(obj, key, where, max_len)
    if not v.strip():
        raise Invalid("%s.%s is required" % (where, key) if where else "%s is required" % key)
    return v.strip()


def int_value(obj, key, where):
    v = obj.get(key)
    if isinstance(v, bool):
        raise Invalid("%s.%s must be a number" % (where, key))
    if isinstance(v, int):
        return v
    if isinstance(v, str) and re.fullmatch(r"\s*-?\d+\s*", v):
        return int(v)
    if v is None or v == "":
        raise Invalid("%s.%s is required" % (where, key))
    raise Invalid("%s.%s must be an integer" % (where, key))


def idempotence_id(obj, where):
    v = obj.get("idempotenceid")
    if v is None or v == "":
        return None  # the seeds' example sends "": no key
    if not isinstance(v, str):
        raise Invalid("%s.idempotenceID must be a string" % where)
    if len(v) > protocol.IDEMPOTENCE_ID_MAX_LENGTH:
        raise Invalid("%s.idempotenceID is longer than %d characters" % (where, protocol.IDEMPOTENCE_ID_MAX_LENGTH))
    return v


def file_content(obj, where, check_magic, required=True):
    """fileType/fileContent pair: returns (fileType, bytes) or (None, None) when absent and optional."""
    ftype = obj.get("filetype")
    content = obj.get("filecontent")
    if not required and (ftype in (None, "") and content in (None, "")):
        return None, None
    if ftype in (None, ""):
        raise Invalid("%sfileType is required" % where)
    if content in (None, ""):
        raise Invalid("%sfileContent is required" % where)
    if not isinstance(ftype, str) or ftype.lower() not in protocol.FILE_TYPES:
        raise Invalid("%sfileType %r is not one of %s" % (where, ftype, ", ".join(protocol.FILE_TYPES)))
    if not isinstance(content, str):
        raise Invalid("%sfileContent must be a base64 string" % where)
    try:
        data = base64.b64decode("".join(content.split()), validate=True)
    except (binascii.Error, ValueError):
        raise Invalid("%sfileContent is not valid base64" % where) from None
    if not data:
        raise Invalid("%sfileContent is empty" % where)
    if len(data) > protocol.MAX_FILE_BYTES:
        raise Invalid("%sfileContent is larger than %d bytes" % (where, protocol.MAX_FILE_BYTES))
    if check_magic and not data.startswith(protocol.FILE_TYPES[ftype.lower()]):
        raise Invalid("%sfileContent is not a %s file (its first bytes do not match the fileType)"
                      % (where, ftype.lower()))
    return ftype.lower(), data


def organization(org, accept_unknown):
    where = "organizationPost"
    if org is None:
        raise Invalid("organizationPost is required")
    if not isinstance(org, dict):
        raise Invalid("organizationPost must be an object")
    check_keys(org, ORGANIZATION_KEYS, where, accept_unknown)
    for k in ORGANIZATION_KEYS:
        opt_str(org, k, where, protocol.ORGANIZATION_FIELD_MAX_LENGTH)
    req_str(org, "orgname", where, protocol.ORGANIZATION_FIELD_MAX_LENGTH)
    bc = org.get("businesscategory")
    if bc not in (None, "") and bc not in protocol.BUSINESS_CATEGORIES:
        raise Invalid("organizationPost.businessCategory %r is not one of: %s"
                      % (bc, ", ".join(protocol.BUSINESS_CATEGORIES)))
    cc = org.get("countrycode")
    if cc not in (None, "") and not re.fullmatch(r"[A-Za-z]{2}", cc):
        raise Invalid("organizationPost.countryCode %r is not a two-letter ISO 3166 code" % cc)
    for k in ("orgemail", "useremail"):
        v = org.get(k)
        if v not in (None, "") and not re.match(protocol.EMAIL_PATTERN, v):
            raise Invalid("organizationPost.%s %r is not an e-mail address" % (k, v))
    return {k: (org.get(k) or "") for k in ORGANIZATION_KEYS}


def documents(docs, accept_unknown, check_magic):
    if docs is None:
        return []
    if not isinstance(docs, list):
        raise Invalid("documentsPost must be a list")
    out = []
    for i, d in enumerate(docs):
        where = "documentsPost[%d]" % i
        if not isinstance(d, dict):
            raise Invalid("%s must be an object" % where)
        check_keys(d, DOCUMENT_KEYS, where, accept_unknown)
        dt = int_value(d, "documenttype", where)
        if dt not in protocol.DOCUMENT_TYPES.values():
            raise Invalid("%s.documentType %r is not 1 (authorisation letter), 2 (business licence) "
                          "or 3 (identity card)" % (where, dt))
        ftype, data = file_content(d, where + ".", check_magic)
        out.append({"documenttype": dt, "filetype": ftype, "size": len(data)})
    return out


def hosts_value(v, where="orderInfoPost.hosts"):
    if v is None or v == "":
        return []
    if not isinstance(v, str):
        raise Invalid("%s must be one comma-separated string (not %s)" % (where, type(v).__name__))
    return protocol.split_hosts(v)


def url_value(obj, key, where):
    v = req_str(obj, key, where, 2048)
    if not re.match(r"^https?://[^\s/]+", v):
        raise Invalid("%s.%s must be an http(s) URL" % (where, key) if where else "%s must be an http(s) URL" % key)
    return v


def order_id(obj, key="orderid", name="orderID"):
    v = obj.get(key)
    if v is None or (isinstance(v, str) and not v.strip()):
        raise Invalid("%s is required" % name)
    if not isinstance(v, str):
        raise Invalid("%s must be a string" % name)
    return v.strip()

# -*- coding: utf-8 -*-
# Copyright: (c) 2026, wotrus.pki contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Shape a ``!getPostPaymentStatus`` answer into what the modules return.

Keys are read case-insensitively (the seed's field table says names are case
insensitive); the sections are returned as the API sends them, the domains in
snake_case with their CSR-hash DCV values added. The upload token (a bearer
credential) is never part of the result.
"""

from __future__ import annotations

from ansible_collections.wotrus.pki.plugins.module_utils._sectigo import dcv

SECTIONS = (
    ("csr", "csrStatus"),
    ("dcv", "dcvStatus"),
    ("agreement", "agreementStatus"),
    ("callback", "callbackStatus"),
    ("organization", "organizationStatus"),
    ("second_approval", "secondApprovalStatus"),
    ("fsup", "fsupStatus"),
)

CSR_HASH_METHOD = "csrHash"
SECRET_KEYS = frozenset(["uploaddocumenttoken"])


def get_ci(mapping, name, default=None):
    """``mapping[name]`` with the name compared case-insensitively."""
    if not isinstance(mapping, dict):
        return default
    if name in mapping:
        return mapping[name]
    lowered = name.lower()
    for key, value in mapping.items():
        if isinstance(key, str) and key.lower() == lowered:
            return value
    return default


def _without_secrets(value):
    if isinstance(value, dict):
        return dict((k, _without_secrets(v)) for k, v in value.items()
                    if not (isinstance(k, str) and k.lower() in SECRET_KEYS))
    if isinstance(value, list):
        return [_without_secrets(v) for v in value]
    return value


def _domain(entry, hashes):
    methods = get_ci(entry, "methods") or []
    if not isinstance(methods, list):
        methods = []
    types = [get_ci(m, "type") for m in methods if isinstance(m, dict)]
    csr_hash_options = []
    for method in methods:
        if isinstance(method, dict) and get_ci(method, "type") == CSR_HASH_METHOD:
            csr_hash_options.extend(get_ci(method, "options") or [])
    name = get_ci(entry, "domainName") or ""
    result = {
        "domain_name": name,
        "dcv_status": get_ci(entry, "dcvStatus"),
        "selected_method": get_ci(entry, "selectedMethod"),
        "methods": methods,
        "method_types": types,
        "csr_hash_available": CSR_HASH_METHOD in types,
        "csr_hash_options": csr_hash_options,
    }
    values = dict.fromkeys(("cname_name", "cname_target", "http_file_path", "http_file_content",
                            "http_url", "https_url"))
    if hashes is not None and name:
        values = dcv.domain_values(name, *hashes)
    result.update(values)
    return result


def summarize(data):
    """``(result, warnings)`` for a module from the answer's ``data``."""
    warnings = []
    sections = {}
    for short, key in SECTIONS:
        section = get_ci(data, key)
        sections[short] = _without_secrets(section) if isinstance(section, dict) else None
    dcv_status = sections["dcv"] or {}
    md5 = get_ci(dcv_status, "MD5")
    sha256 = get_ci(dcv_status, "SHA256")
    unique_value = get_ci(dcv_status, "uniqueValue")
    hashes = None
    if md5 or sha256:
        try:
            hashes = dcv.check_hashes(md5, sha256, unique_value)
        except dcv.DcvValueError as exc:
            warnings.append("No CSR-hash DCV values are returned: the answer's %s." % exc)
    domains = [_domain(d, hashes) for d in (get_ci(dcv_status, "domains") or []) if isinstance(d, dict)]
    result = {
        "order_number": get_ci(data, "orderNumber"),
        "order_status": get_ci(data, "orderStatus"),
        "product_type": get_ci(data, "productType"),
        "product_name": get_ci(data, "productName"),
        "certificate_duration": get_ci(data, "certificateDuration"),
        "product_term": get_ci(data, "productTerm"),
        "domain_name": get_ci(data, "domainName"),
        "primary_domain_name": get_ci(data, "primaryDomainName"),
        "max_mdc_domains": get_ci(data, "maxMDCDomains"),
        "max_mdc_wildcard_domains": get_ci(data, "maxMDCWildcardDomains"),
        "upload_document_url": get_ci(data, "uploadDocumentUrl"),
        "upload_document_token_present": bool(get_ci(data, "uploadDocumentToken")),
        "sections": sections,
        "csr_hash": {
            "md5": hashes[0] if hashes else md5,
            "sha256": hashes[1] if hashes else sha256,
            "unique_value": hashes[2] if hashes else unique_value,
            "target_domain": dcv.DCV_TARGET_DOMAIN,
        },
        "domains": domains,
    }
    if result["order_number"] is not None:
        result["order_number"] = str(result["order_number"])
    return result, warnings

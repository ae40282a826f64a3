# -*- coding: utf-8 -*-
# Copyright: (c) 2026, wotrus.pki contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The order record: the one owner of its schema, reading, checking and text.

A record is a small JSON object kept next to a certificate (the role:
``<cert_path>.wotrus.json``, mode 0600) or wherever a module's ``record_path``
says. It holds no secret. It lets a later run know that its order exists
(GET, never a second Create), resume an order that is not issued yet, and
judge the certificate on disk.

Schema (``VERSION`` 1; every field but ``version`` and ``order_id`` optional):

==================== ======================================================
``version``          1 (a record without it is read as 1)
``order_id``         the latest order placed for this certificate
``order_id_rsa``     ``orderId_RSA`` of the Create answer (SM2 + RSA)
``idempotence_id``   the key its Create or Reissue carried
``product_id``       the product (upper case)
``common_name``      the certificate's common name
``hosts``            its names (list)
``month``            the months ordered (12, 13, 24, 25)
``created``          when the order was placed (controller clock, UTC ISO)
``reissued_from``    the order a reissue replaced
``name``             the role's certificate name
``status``           what the API last said (``status_changed``: since when)
``pending_link``     the page where a person finishes validation
``is_pay``           0 unpaid, 1 paid, 2 issued before payment
``purpose``          new, renew or reissue (what the order was for)
``key``              staged (the CSR was made from ``<key_path>.pending``)
                     or current
``replaces_serial``  the serial of the certificate the order replaces
``deployed_order_id`` / ``deployed_serial`` / ``deployed_not_after`` /
``deployed_at``      what is deployed now (written by certificate_deploy)
``revoked_order_id`` / ``revoke_status`` / ``revoke_requested``
                     a revocation asked for
``dcv_files`` / ``dcv_dirs`` / ``dcv_urls``
                     HTTP validation files published on the host
==================== ======================================================

Nothing here imports Ansible and nothing here writes a file: a module writes
``dumps(record)`` with the collection's file writer (the one call site:
``_wotrus_module.keep_record`` for the wotrus_* modules,
``certificate_deploy`` for the role).
"""

# No `from __future__ import annotations`: this file runs on managed hosts, and one with
# Python 3.6 or 3.7 (ansible-core 2.16 allows them) must get certificate_status's refusal, not a SyntaxError.

import datetime
import json
import os
import time

VERSION = 1
# Versions this code reads. A newer record (written by a newer collection) is
# not guessed at: read() says so instead of dropping fields.
READABLE_VERSIONS = (1,)

TEXT_FIELDS = (
    "order_id", "order_id_rsa", "idempotence_id", "product_id", "common_name", "created", "reissued_from",
    "name", "status", "status_changed", "pending_link", "purpose", "key", "replaces_serial",
    "deployed_order_id", "deployed_serial", "deployed_not_after", "deployed_at",
    "revoked_order_id", "revoke_status", "revoke_requested",
)
LIST_FIELDS = ("hosts", "dcv_files", "dcv_dirs", "dcv_urls")
INT_FIELDS = ("version", "month", "is_pay")


class RecordError(ValueError):
    """A record that cannot be used; the message says why."""


def now_iso(now=None):
    when = datetime.datetime.fromtimestamp(now if now is not None else time.time(), datetime.timezone.utc)
    return when.strftime("%Y-%m-%dT%H:%M:%SZ")


def new(idempotence_id, order_id, order_id_rsa=None, product_id=None, common_name=None, hosts=None,
        month=None, reissued_from=None, now=None, **fields):
    """A record for an order just placed (or adopted), plus any other schema ``fields``."""
    record = {
        "version": VERSION,
        "idempotence_id": idempotence_id,
        "order_id": order_id,
        "order_id_rsa": order_id_rsa,
        "product_id": product_id,
        "common_name": common_name,
        "hosts": list(hosts or []),
        "month": month,
        "created": now_iso(now),
    }
    if reissued_from:
        record["reissued_from"] = reissued_from
    record.update(fields)
    return record


def validate(record):
    """The record, checked against the schema (unknown fields are kept as
    they are: a newer minor version may add some). Raises RecordError."""
    if not isinstance(record, dict):
        raise RecordError("an order record is a JSON object, got %s" % type(record).__name__)
    version = record.get("version", 1)
    if isinstance(version, str) and version.strip().isdigit():
        version = int(version)
    if version not in READABLE_VERSIONS:
        raise RecordError("order record version %r is not one this collection reads (%s); it was written by "
                          "another version of wotrus.pki" % (version, ", ".join(map(str, READABLE_VERSIONS))))
    if not isinstance(record.get("order_id"), str) or not record["order_id"].strip():
        raise RecordError("the order record names no order_id")
    for key in TEXT_FIELDS:
        if record.get(key) is not None and not isinstance(record[key], str):
            raise RecordError("order record field %s must be a string, got %r" % (key, record[key]))
    for key in LIST_FIELDS:
        if record.get(key) is not None and not isinstance(record[key], list):
            raise RecordError("order record field %s must be a list, got %r" % (key, record[key]))
    out = dict(record)
    for key in INT_FIELDS:
        value = out.get(key)
        if isinstance(value, str) and value.strip().isdigit():
            value = out[key] = int(value)  # a templated value comes back as text
        if value is not None and (isinstance(value, bool) or not isinstance(value, int)):
            raise RecordError("order record field %s must be a number, got %r" % (key, value))
    out["version"] = version
    return out


def dumps(record):
    """The record's text (JSON, sorted keys, one trailing newline)."""
    return json.dumps(validate(record), indent=2, sort_keys=True) + "\n"


def loads(text):
    """A record from its text, or None when the text is not a usable record
    (not JSON, not an object, no order id, a field of the wrong type or an
    unknown version). A run without a usable record orders as if there were
    none, which the idempotence id keeps safe."""
    try:
        if isinstance(text, bytes):
            text = text.decode("utf-8")
        return validate(json.loads(text))
    except (TypeError, ValueError):
        return None


def read(path):
    """The record at ``path`` on this machine, or None (no path, no file, not usable)."""
    if not path:
        return None
    try:
        with open(os.path.expanduser(path), "rb") as f:
            data = f.read()
    except OSError:
        return None
    return loads(data)


def order_for(record, idempotence_id):
    """The recorded order id when the record belongs to ``idempotence_id``, else None."""
    if record and idempotence_id and record.get("idempotence_id") == idempotence_id:
        return record.get("order_id")
    return None


def placed_at(record):
    """When the recorded order was placed (aware UTC datetime), or None."""
    value = (record or {}).get("created")
    if not value:
        return None
    try:
        when = datetime.datetime.strptime(value, "%Y-%m-%dT%H:%M:%SZ")
    except ValueError:
        return None
    return when.replace(tzinfo=datetime.timezone.utc)

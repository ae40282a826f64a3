# -*- coding: utf-8 -*-
# Copyright: (c) 2026, wotrus.pki contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""今通国际 OrderOpenApi: the MD5 form signature and the XML it carries.

Everything here follows section 一.2 of the API text (seed 004) and is kept in
one place so that the client and its tests agree on one reading:

* every field takes part except ``Sign`` and ``SignType``;
* a field whose value is ``None`` or the empty string is left out;
* names are sorted by ordinal order (.NET ``string.CompareOrdinal``: UTF-16
  code units, so upper case sorts before lower case);
* ``name=value`` pairs are joined with ``&``; a nested object is flattened the
  same way and the result is its value (``Param=Consumer=a&OrderID=b``);
* enumerations are signed by their names;
* ``Sign = md5(joined + key)`` as 32 lower-case hex digits (UTF-8 bytes:
  an assumption, the text does not name the encoding).

The text's worked example signs ``Remark=取消`` as plain text while the field
sent is ``HttpUtility.UrlEncode``-d: the signature covers the decoded values.

Nothing here imports Ansible.
"""

from __future__ import annotations

import enum
import hashlib
import hmac
from urllib.parse import quote_plus, unquote_plus
from xml.etree import ElementTree

# Fields of the form that are never signed (3.1 / 3.2 of the text).
UNSIGNED_FIELDS = frozenset(["Sign", "SignType"])


def _ordinal_key(name):
    """Sort key of .NET ``string.CompareOrdinal``: UTF-16 code units."""
    return name.encode("utf-16-be")


def _text(value):
    if isinstance(value, enum.Enum):
        return value.name
    if isinstance(value, bool):
        return "True" if value else "False"  # .NET Boolean.ToString()
    return str(value)


def signing_string(fields, exclude=UNSIGNED_FIELDS):
    """Join ``fields`` (a mapping, values may be nested mappings) for signing.

    >>> signing_string({"key1": "val1", "key2": "val2", "key0": "val0"})
    'key0=val0&key1=val1&key2=val2'
    """
    parts = []
    for name in sorted(fields, key=_ordinal_key):
        if name in exclude:
            continue
        value = fields[name]
        if value is None:
            continue
        if isinstance(value, dict):
            # Nested objects are flattened the same way; their own Sign (if any)
            # is not special: only the top level's Sign/SignType are unsigned.
            value = signing_string(value, exclude=frozenset())
        else:
            value = _text(value)
        if value == "":
            continue
        parts.append("%s=%s" % (name, value))
    return "&".join(parts)


def sign(fields, key):
    """``md5(signing_string(fields) + key)``, 32 lower-case hex digits."""
    joined = signing_string(fields) + key
    return hashlib.md5(joined.encode("utf-8")).hexdigest()


def verify(fields, key, signature):
    """Constant-time comparison of ``signature`` with the expected one."""
    if not signature:
        return False
    expected = sign(fields, key)
    return hmac.compare_digest(expected, signature.strip().lower())


def url_encode(value):
    """``System.Web.HttpUtility.UrlEncode``: UTF-8, space as ``+``, lower-case hex.

    Characters .NET leaves alone (letters, digits, ``-_.!*()``) stay as they
    are, so an ASCII word goes out unchanged.
    """
    encoded = quote_plus(value, safe="-_.!*()", encoding="utf-8")
    # .NET writes %xx in lower case.
    out = []
    i = 0
    while i < len(encoded):
        if encoded[i] == "%":
            out.append(encoded[i:i + 3].lower())
            i += 3
        else:
            out.append(encoded[i])
            i += 1
    return "".join(out)


def url_decode(value):
    return unquote_plus(value, encoding="utf-8")


# Fields of CancelOrderRequestParam whose values are URL-encoded on the wire.
# Assumption: Remark is always encoded (.NET's UrlEncode is the identity on plain
# ASCII words, and the receiver cannot tell an encoded value from a plain one
# otherwise); the signature covers the decoded text, as in the worked example.
URL_ENCODED_PARAM_FIELDS = frozenset(["Remark"])


def param_xml(param, root="Param"):
    """The XML text of the business parameters, children in ordinal order.

    Values listed in URL_ENCODED_PARAM_FIELDS are URL-encoded; ``None`` values
    are left out.
    """
    element = ElementTree.Element(root)
    for name in sorted(param, key=_ordinal_key):
        value = param[name]
        if value is None:
            continue
        child = ElementTree.SubElement(element, name)
        text = _text(value)
        if name in URL_ENCODED_PARAM_FIELDS:
            text = url_encode(text)
        child.text = text
    return ElementTree.tostring(element, encoding="unicode")


def element_to_dict(element):
    """An XML element as nested dicts (leaves are text, ``""`` when empty)."""
    children = list(element)
    if not children:
        return element.text or ""
    result = {}
    for child in children:
        result[_local_name(child.tag)] = element_to_dict(child)
    return result


def _local_name(tag):
    return tag.rsplit("}", 1)[-1]


def parse_xml_answer(body):
    """Parse an answer: URL-encoded XML (as the text says) or plain XML.

    Returns ``(root_name, fields)``. Raises ``ValueError`` when it is not XML.
    """
    if isinstance(body, bytes):
        body = body.decode("utf-8-sig")
    text = body.strip()
    if not text.startswith("<"):
        text = url_decode(text).strip()
    if text.startswith("="):
        # The failure example in the text starts with a stray "=".
        text = text.lstrip("= ")
    if not text.startswith("<"):
        raise ValueError("the answer is not XML")
    try:
        root = ElementTree.fromstring(text)
    except ElementTree.ParseError as exc:
        raise ValueError("the answer is not well-formed XML: %s" % exc)
    fields = element_to_dict(root)
    if not isinstance(fields, dict):
        fields = {}
    return _local_name(root.tag), fields

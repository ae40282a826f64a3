# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The certificate role's preflight for certificate_dcv: values, per-item override,
wildcards, and the Sectigo settings it needs (only when a certificate uses http)."""

from __future__ import annotations

from ansible.module_utils import _internal

# Importing controller code (an action plugin) marks the whole process as the controller, and
# module warnings then go to the display instead of the module result: put the flag back so
# that the module tests that run after this file still see their warnings.
_WAS_CONTROLLER = _internal.is_controller
from ansible_collections.wotrus.pki.plugins.action.certificate_preflight import Checker  # noqa: E402
_internal.is_controller = _WAS_CONTROLLER

DEFAULTS = dict(dir="/etc/ssl/wotrus", product_id="8F6A3C1D-2B4E-4C5F-9A7B-1D2E3F4A5B6C",
                organization={"org_name": "Example"}, mode="0644", key_mode="0600", dcv="none",
                dcv_webroot="/var/www/html")
SECTIGO = dict(certificate_sectigo_api_url="https://secure.trust-provider.com/products/!getPostPaymentStatus",
               certificate_sectigo_login_name="me", certificate_sectigo_login_password_set=True)


def check(items, defaults=None, settings=None):
    d = dict(DEFAULTS, **(defaults or {}))
    c = Checker(d, dict(settings or {}))
    return c.run(items), c.errors


def test_default_none_needs_no_sectigo_settings():
    items, errors = check([dict(name="www", common_name="www.example.com")])
    assert errors == [] and items[0]["dcv"] == "none" and items[0]["dcv_webroot"] is None


def test_http_per_item_with_its_webroot():
    items, errors = check([dict(name="www", common_name="www.example.com", dcv="http", dcv_webroot="/srv/www/"),
                           dict(name="api", common_name="api.example.com")], settings=SECTIGO)
    assert errors == []
    assert (items[0]["dcv"], items[0]["dcv_webroot"]) == ("http", "/srv/www")
    assert items[1]["dcv"] == "none"


def test_errors_name_the_variable():
    items, errors = check([dict(name="www", common_name="www.example.com", subject_alt_names=["*.example.com"],
                                dcv="http", dcv_webroot="html"),
                           dict(name="b", common_name="b.example.com", dcv="dns")],
                          settings=dict(certificate_sectigo_api_url="http://plain.example.com/x",
                                        certificate_sectigo_login_password_set=False))
    text = "\n".join(errors)
    assert "certificate_list[0].dcv: http cannot validate the wildcard name *.example.com" in text
    assert "certificate_list[0].dcv_webroot: must be an absolute path" in text
    assert "certificate_list[1].dcv: must be none or http, got 'dns'" in text
    assert "certificate_sectigo_api_url: must be an https:// URL" in text
    assert "certificate_sectigo_login_name: is required when certificate_dcv is http" in text
    assert "certificate_sectigo_login_password: is required" in text


def test_role_wide_value_is_named_as_such():
    items, errors = check([dict(name="www", common_name="www.example.com")], defaults=dict(dcv="https"))
    assert errors == ["certificate_dcv: must be none or http, got 'https'"]
    items, errors = check([dict(name="www", common_name="www.example.com")],
                          defaults=dict(dcv="http", dcv_webroot="www"), settings=SECTIGO)
    assert errors == ["certificate_dcv_webroot: must be an absolute path on the host, got 'www'"]

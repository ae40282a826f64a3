# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The certificate role's preflight runs the collection's input checks (inputs.*) on every
certificate, so that what certificate_issue would refuse after the key and CSR are made is
refused first, each message naming the role variable."""

from __future__ import annotations

import pytest
from ansible.module_utils import _internal

# Importing controller code (an action plugin) marks the process as the controller: put the flag
# back so that the module tests that run after this file still see their warnings.
_WAS_CONTROLLER = _internal.is_controller
from ansible_collections.wotrus.pki.plugins.action.certificate_preflight import Checker  # noqa: E402
_internal.is_controller = _WAS_CONTROLLER

PRODUCT = "8F6A3C1D-2B4E-4C5F-9A7B-1D2E3F4A5B6C"
DEFAULTS = dict(dir="/etc/ssl/wotrus", product_id=PRODUCT, organization={"org_name": "Example", "country_code": "CN"},
                mode="0644", key_mode="0600", dcv="none", dcv_webroot="/var/www/html", month=12)


def check(items, defaults=None, settings=None):
    d = dict(DEFAULTS, **(defaults or {}))
    c = Checker(d, dict(settings or {}))
    return c.run(items), c.errors


def www(**kw):
    item = dict(name="www", common_name="www.example.com")
    item.update(kw)
    return item


def test_a_good_certificate_passes_and_is_normalised():
    items, errors = check([www(common_name="WWW.Example.com.", subject_alt_names=["Example.COM", "192.0.2.7", "2001:DB8::1"],
                               organization={"org_name": "X", "country_code": "cn",
                                             "business_category": "Private Organization"})])
    assert errors == []
    assert items[0]["common_name"] == "www.example.com"
    assert items[0]["subject_alt_names"] == ["www.example.com", "example.com", "192.0.2.7", "2001:db8::1"]
    assert items[0]["organization"]["country_code"] == "CN" and items[0]["product_id"] == PRODUCT


@pytest.mark.parametrize("org,var", [
    ({"org_name": "X", "country_code": "China"}, "certificate_organization.country_code: must be a two-letter"),
    ({"org_name": "X", "business_category": "Bogus"}, "certificate_organization.business_category: must be one of"),
    ({"org_name": "X", "colour": "red"}, "certificate_organization.colour: is not a known organisation field"),
    ({"country_code": "CN"}, "certificate_organization.org_name: is required"),
])
def test_role_wide_organisation_is_checked_by_the_shared_validator(org, var):
    items, errors = check([www()], defaults=dict(organization=org))
    assert len(errors) == 1 and errors[0].startswith(var), errors


def test_item_organisation_lists_every_problem_naming_the_item():
    items, errors = check([www(), www(name="api", common_name="api.example.com",
                                      organization={"org_name": "X", "country_code": "China",
                                                    "business_category": "Bogus"})])
    text = "\n".join(errors)
    assert len(errors) == 2, errors
    assert "certificate_list[1].organization.country_code: must be a two-letter ISO 3166 code" in text
    assert "certificate_list[1].organization.business_category: must be one of Business Entity" in text


@pytest.mark.parametrize("name", ["...", "1.2.3.4.5", "a..b", "::g", "exa mple.com", "-x.example.com", ":", ""])
def test_names_that_are_neither_dns_nor_ip_are_refused(name):
    items, errors = check([www(subject_alt_names=["www.example.com", name])])
    assert len(errors) == 1 and errors[0].startswith("certificate_list[0].subject_alt_names[1]: "), errors
    items, errors = check([www(common_name=name)])
    assert len(errors) == 1 and errors[0].startswith("certificate_list[0].common_name: "), errors


def test_product_id_uses_the_shared_validator():
    items, errors = check([www(product_id="not-a-guid")])
    assert errors == ["certificate_list[0].product_id: 'not-a-guid' is not a product ID (a GUID like "
                      "%s)" % errors[0].split("GUID like ")[1][:-1]]
    items, errors = check([www()], defaults=dict(product_id=""))
    assert len(errors) == 1 and errors[0].startswith("certificate_product_id: '' is not a product ID")
    items, errors = check([www(product_id=PRODUCT.lower())])
    assert errors == [] and items[0]["product_id"] == PRODUCT


@pytest.mark.parametrize("month,ok", [(12, True), (24, True), ("24", True), (13, False), (25, False),
                                      (6, False), ("x", False)])
def test_month_is_12_or_24(month, ok):
    items, errors = check([www(month=month)])
    assert (errors == []) is ok, errors
    if ok:
        assert items[0]["month"] == int(month)
    else:
        assert len(errors) == 1 and errors[0].startswith("certificate_list[0].month: ")
    items, errors = check([www()], defaults=dict(month=month))
    assert (errors == []) is ok and all(e.startswith("certificate_month: ") for e in errors)


@pytest.mark.parametrize("url,ok", [
    ("https://restapi.wosign.com", True), ("https://127.0.0.1:8443", True), ("http://127.0.0.1:8080", True),
    ("http://localhost:8080/", True), ("http://[::1]:8080", True), ("http://restapi.wosign.com", False),
    ("ftp://restapi.wosign.com", False), ("restapi.wosign.com", False), ("https://", False),
    ("http://127.0.0.53:8080", True), ("http://10.0.0.1", False),
])
def test_api_url_is_https_or_loopback_http(url, ok):
    items, errors = check([www()], settings=dict(certificate_api_url=url))
    assert (errors == []) is ok, errors
    if not ok:
        assert errors[0].startswith("certificate_api_url: must be https://, or plain http:// only to localhost or "
                                    "a loopback address (127.0.0.0/8, ::1)")


@pytest.mark.parametrize("value,want", [
    ("2026-03-01T08:00:00Z", "2026-03-01T08:00:00Z"), ("2026-03-01T08:00:00+08:00", "2026-03-01T00:00:00Z"),
    ("2026-03-01T08:00", "2026-03-01T08:00:00Z"), ("2026-03-01 08:00:00.123456+00:00", "2026-03-01T08:00:00Z"),
    ("", None), (None, None),
])
def test_reissue_issued_before_is_normalised(value, want):
    c = Checker(DEFAULTS, dict(certificate_reissue_issued_before=value))
    c.run([www()])
    assert c.errors == [] and c.reissue_issued_before == want


@pytest.mark.parametrize("value", ["yesterday", "2026-03-01", "2026-13-01T00:00:00Z", "2026-03-01T08:00:00+25:00", 5])
def test_reissue_issued_before_must_be_a_date_time(value):
    c = Checker(DEFAULTS, dict(certificate_reissue_issued_before=value))
    c.run([www()])
    assert len(c.errors) == 1 and c.errors[0].startswith(
        "certificate_reissue_issued_before: must be an ISO 8601 date-time such as 2026-03-01T08:00:00Z"), c.errors


@pytest.mark.parametrize("keep,ok", [(3, True), ("0", True), (-1, False), ("2.5", False), ("many", False)])
def test_backup_keep_is_a_whole_number(keep, ok):
    items, errors = check([www()], settings=dict(certificate_backup_keep=keep))
    assert (errors == []) is ok, errors
    if not ok:
        assert errors[0].startswith("certificate_backup_keep: must be a whole number"), errors


def test_names_are_typed_once_for_the_csr():
    items, errors = check([www(subject_alt_names=["Example.COM", "192.0.2.7", "2001:DB8::1", "10.0.0.1.example"])])
    assert errors == []
    assert items[0]["csr_subject_alt_names"] == ["DNS:www.example.com", "DNS:example.com", "IP:192.0.2.7",
                                                 "IP:2001:db8::1", "DNS:10.0.0.1.example"]


@pytest.mark.parametrize("name", ["999.1.1.1", "1.2.3", "a..b", "exa mple.com", "ab:cd"])
def test_not_a_name_nor_an_address(name):
    items, errors = check([www(subject_alt_names=[name])])
    assert errors == ["certificate_list[0].subject_alt_names[0]: %r is not a DNS name or IP address" % name]


@pytest.mark.parametrize("var,settings", [
    ("certificate_reissue_proof_path", dict(certificate_reissue=True)),
    ("certificate_revoke_proof_path", dict(certificate_revoke=True, certificate_revoke_reason="key compromise")),
])
def test_a_proof_file_with_the_wrong_content_is_refused_under_the_role_variable(tmp_path, var, settings):
    letter = tmp_path / "letter.pdf"
    letter.write_bytes(b"GIF89a not a pdf")
    items, errors = check([www()], settings=dict(settings, **{var: str(letter)}))
    assert len(errors) == 1 and errors[0].startswith(var + ": ") and "is named .pdf but its content is a .gif" \
        in errors[0], errors
    assert "proof_path:" not in errors[0].replace(var, "")
    letter.write_bytes(b"%PDF-1.4 a letter")
    assert check([www()], settings=dict(settings, **{var: str(letter)}))[1] == []


def test_the_api_address_comes_from_the_environment_once(monkeypatch, tmp_path):
    from ansible_collections.wotrus.pki.plugins.action.certificate_preflight import Checker as checker_class
    monkeypatch.setenv("WOTRUS_API_URL", "http://example.com:8443")
    monkeypatch.setenv("WOTRUS_CA_PATH", str(tmp_path))  # a hashed CA directory
    c = checker_class(dict(DEFAULTS), dict(certificate_api_url=""))
    c.run([www()])
    assert c.errors and c.errors[0].startswith("certificate_api_url: must be https://"), c.errors
    monkeypatch.setenv("WOTRUS_API_URL", "https://api.example.com")
    c = checker_class(dict(DEFAULTS), dict(certificate_api_url=""))
    c.run([www()])
    assert c.errors == [] and c.connection == dict(api_url="https://api.example.com", ca_path=str(tmp_path))


def test_the_role_months_are_protocols_order_months():
    import os
    import yaml
    from ansible_collections.wotrus.pki.plugins.module_utils._wotrus import protocol
    spec_path = os.path.join(os.path.dirname(__file__), "..", "..", "..", "..", "roles", "certificate", "meta",
                             "argument_specs.yml")
    with open(spec_path) as f:
        options = yaml.safe_load(f)["argument_specs"]["main"]["options"]
    assert tuple(options["certificate_month"]["choices"]) == protocol.ORDER_MONTHS
    assert tuple(options["certificate_list"]["options"]["month"]["choices"]) == protocol.ORDER_MONTHS
    assert check([www(month=13)])[1] == ["certificate_list[0].month: must be 12 or 24 (the role orders 13 or 25 "
                                         "itself on renewal), got 13"]


@pytest.mark.parametrize("settings,words", [
    (dict(certificate_api_timeout=0), "certificate_api_timeout: must be a number of seconds greater than 0"),
    (dict(certificate_api_timeout="-1"), "certificate_api_timeout: must be a number of seconds greater than 0"),
    (dict(certificate_ca_path="/nonexistent/ca.pem"), "certificate_ca_path: /nonexistent/ca.pem does not exist"),
])
def test_connection_settings_that_cannot_work_stop_the_play(settings, words):
    items, errors = check([www()], settings=settings)
    assert any(e.startswith(words) for e in errors), errors


def test_a_missing_ca_path_is_fine_when_certificates_are_not_checked():
    items, errors = check([www()], settings=dict(certificate_ca_path="/nonexistent/ca.pem",
                                                 certificate_validate_certs=False))
    assert errors == []


@pytest.mark.parametrize("spread,want", [(0, 0), ("30", 30), (365, 365), (366, None), (-1, None), ("a week", None),
                                         (1.5, None)])
def test_renew_spread_days_is_a_whole_number_of_days_up_to_a_year(spread, want):
    c = Checker(dict(DEFAULTS), dict(certificate_renew_spread_days=spread))
    c.run([www()])
    if want is None:
        assert len(c.errors) == 1 and c.errors[0].startswith(
            "certificate_renew_spread_days: must be a whole number of days from 0 (off) to 365"), c.errors
    else:
        assert c.errors == [] and c.renew_spread_days == want

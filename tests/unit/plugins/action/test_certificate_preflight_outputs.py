# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The preflight of the outputs (combined, pkcs12, der) and of the services (presets):
normalised once, every problem naming the variable, the PKCS#12 password never in the plan."""

from __future__ import annotations

import pytest

from .test_certificate_preflight import check, www

PW = dict(certificate_pkcs12_password_set=True)


def test_outputs_get_default_paths_and_the_plan_holds_no_password():
    items, errors = check([www()], defaults=dict(outputs=["combined", "pkcs12", "der"]), settings=PW)
    assert errors == []
    it = items[0]
    assert it["combined_path"] == "/etc/ssl/wotrus/www.combined.pem"
    assert it["pkcs12_path"] == "/etc/ssl/wotrus/www.p12" and it["pkcs12_friendly_name"] == "www"
    assert it["der_path"] == "/etc/ssl/wotrus/www.der"
    assert "password" not in repr(items).replace("pkcs12_path", "")


def test_an_item_sets_its_own_outputs_and_paths():
    items, errors = check([www(outputs=[{"type": "pkcs12", "path": "/etc/tomcat10/www.p12", "friendly_name": "tomcat"}])],
                          defaults=dict(outputs=["combined"]), settings=PW)
    assert errors == []
    assert items[0]["combined_path"] is None and items[0]["pkcs12_path"] == "/etc/tomcat10/www.p12"
    assert items[0]["pkcs12_friendly_name"] == "tomcat"


def test_no_outputs_by_default():
    items, errors = check([www()])
    assert errors == [] and items[0]["combined_path"] is None and items[0]["pkcs12_path"] is None


@pytest.mark.parametrize("outputs, settings, expect", [
    (["pkcs12"], {}, "certificate_pkcs12_password: is required when a certificate has a pkcs12 output"),
    (["jks"], PW, "certificate_outputs[0]: must be combined, pkcs12 or der"),
    ([{"type": "der", "friendly_name": "x"}], PW, "certificate_outputs[0].friendly_name: is not a known key"),
    (["der", "der"], PW, "certificate_outputs[1]: output der is listed twice"),
    ([{"type": "combined", "path": "relative.pem"}], PW, "certificate_outputs[0].path: must be an absolute path"),
    ([{"type": "combined", "path": "/etc/ssl/wotrus/www.crt"}], PW, "certificate_list[0]: cert_path, key_path"),
    ("combined", PW, "certificate_outputs: must be a list"),
    (["combined"], dict(certificate_pkcs12_encryption="des"), "certificate_pkcs12_encryption: must be modern or legacy"),
])
def test_bad_outputs_name_the_variable(outputs, settings, expect):
    items, errors = check([www()], defaults=dict(outputs=outputs), settings=settings)
    assert any(e.startswith(expect) for e in errors), errors


def test_services_presets_are_normalised():
    items, errors = check([www(services=["nginx", {"name": "tomcat", "preset": "systemd", "unit": "tomcat10",
                                                   "files": ["pkcs12"]}])],
                          defaults=dict(outputs=["pkcs12"]), settings=PW)
    assert errors == []
    nginx, tomcat = items[0]["services"]
    assert nginx["preset"] == "nginx" and nginx["test"] is None and "fullchain" in nginx["files"]
    assert tomcat == dict(name="tomcat", preset="systemd", test=None, reload=None, unit="tomcat10", files=["pkcs12"])


@pytest.mark.parametrize("services, expect", [
    ([{"name": "app"}], "certificate_list[0].services[0]: needs reload"),
    (["nginx", {"preset": "lighttpd"}], "certificate_list[0].services[1].preset: must be one of"),
    ([{"preset": "haproxy", "test": "haproxy -c"}], "certificate_list[0].services[0].test: must be a command"),
])
def test_bad_services_name_the_variable(services, expect):
    items, errors = check([www(services=services)])
    assert any(e.startswith(expect) for e in errors), errors


@pytest.mark.parametrize("item, defaults, expect", [
    (dict(services=[{"name": "tomcat", "preset": "systemd", "unit": "tomcat10", "files": ["pkcs12"]}]), {},
     "certificate_list[0].services[0].files: names pkcs12, which certificate www does not have"),
    (dict(services=["nginx", {"preset": "haproxy", "files": ["combined", "der"]}], outputs=["combined"]), {},
     "certificate_list[0].services[1].files: names der, which certificate www does not have"),
    (dict(chain_path=None), dict(services=[{"preset": "postfix", "files": ["key", "chain"]}]),
     "certificate_services[0].files: names chain, which certificate www does not have"),
])
def test_a_service_reading_an_output_the_certificate_lacks_is_refused(item, defaults, expect):
    items, errors = check([www(**item)], defaults=defaults, settings=PW)
    assert any(e.startswith(expect) for e in errors), errors
    assert "certificate_outputs" in " ".join(errors)

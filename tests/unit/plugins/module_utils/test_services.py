# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""_services: the presets, the checks (each error names the service's place), the commands
with and without systemd, and which services a change touches."""

from __future__ import annotations

import pytest

from ansible_collections.wotrus.pki.plugins.module_utils import _services


@pytest.mark.parametrize("service, systemd, test, reload", [
    ("nginx", False, ["nginx", "-t"], ["nginx", "-s", "reload"]),
    ("nginx", True, ["nginx", "-t"], ["systemctl", "reload", "nginx"]),
    ("apache2", False, ["apache2ctl", "configtest"], ["apache2ctl", "graceful"]),
    ("apache2", True, ["apache2ctl", "configtest"], ["apache2ctl", "graceful"]),
    ("haproxy", False, ["haproxy", "-c", "-f", "/etc/haproxy/haproxy.cfg"], ["/etc/init.d/haproxy", "reload"]),
    ("haproxy", True, ["haproxy", "-c", "-f", "/etc/haproxy/haproxy.cfg"], ["systemctl", "reload", "haproxy"]),
    ("postfix", True, ["postfix", "check"], ["postfix", "reload"]),
    (dict(preset="systemd", unit="tomcat10"), True, None, ["systemctl", "reload-or-restart", "tomcat10"]),
    (dict(name="app", test=["app", "--check"], reload=["app", "--reload"]), True, ["app", "--check"], ["app", "--reload"]),
    (dict(name="app", unit="app"), False, None, ["systemctl", "reload-or-restart", "app"]),
    (dict(name="haproxy", unit="haproxy@edge"), True, ["haproxy", "-c", "-f", "/etc/haproxy/haproxy.cfg"],
     ["systemctl", "reload", "haproxy@edge"]),
    (dict(preset="nginx", reload=["service", "nginx", "reload"]), True, ["nginx", "-t"], ["service", "nginx", "reload"]),
])
def test_commands(service, systemd, test, reload):
    checked = _services.check(service)
    assert _services.commands(checked, systemd) == (test, reload)


def test_defaults_and_files():
    s = _services.check("haproxy")
    assert s["name"] == "haproxy" and s["preset"] == "haproxy" and "combined" in s["files"] and "pkcs12" not in s["files"]
    java = _services.check(dict(name="tomcat", preset="systemd", unit="tomcat10", files=["pkcs12"]))
    assert _services.affected(java, {"pkcs12"}) and not _services.affected(java, {"cert", "key"})
    assert _services.affected(_services.check(dict(name="x", reload=["true"])), {"der"})  # custom: every output


@pytest.mark.parametrize("services, option", [
    ("nginx", "services"),
    ([42], "services[0]"),
    ([dict(name="x")], "services[0]"),
    ([dict(preset="tomcat")], "services[0].preset"),
    ([dict(preset="systemd")], "services[0].unit"),
    (["nginx", dict(name="x", reload="x --reload")], "services[1].reload"),
    ([dict(preset="nginx", files=["keystore"])], "services[0].files"),
    ([dict(preset="nginx", color="red")], "services[0].color"),
    (["nginx", dict(preset="nginx")], "services[1].name"),
])
def test_bad_services_name_their_place(services, option):
    with pytest.raises(_services.ServiceError) as exc:
        _services.check_all(services)
    assert exc.value.option == option and exc.value.msg.startswith(option + ": ")


def test_systemd_running(tmp_path):
    assert not _services.systemd_running(str(tmp_path))
    (tmp_path / "run" / "systemd" / "system").mkdir(parents=True)
    assert _services.systemd_running(str(tmp_path))

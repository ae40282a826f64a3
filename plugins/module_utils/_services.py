# -*- coding: utf-8 -*-
# Copyright: (c) 2026, wotrus.pki contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The services that use a certificate: presets for the servers people run, and the rules
that turn one service as a user writes it into commands (argv lists, no shell).

A service is a preset name (``nginx``) or a dict ``{name, preset, test, reload, unit, files}``:

* ``preset``: one of PRESETS; default the ``name`` when it is a preset's name, else ``custom``;
* ``test`` / ``reload``: argv lists that replace the preset's commands;
* ``unit``: the systemd unit (of a preset that has one, or of ``systemd`` / ``custom``);
* ``files``: the outputs the service reads (OUTPUTS); a service is tested and reloaded only when
  one of them changed. Default: the preset's.

``check`` validates and normalises (on the controller by the role's preflight, on the host by
certificate_deploy); ``commands`` picks the commands on the host, where it is known whether
systemd runs. Imports nothing from Ansible.
"""


import os

# Every output of a certificate, by the name a service's ``files`` uses.
OUTPUTS = ("key", "cert", "chain", "fullchain", "combined", "pkcs12", "der")
PEM_OUTPUTS = ("key", "cert", "chain", "fullchain", "combined")
KEYS = ("name", "preset", "test", "reload", "unit", "files")

# test: the config check; reload: without systemd; unit: with systemd, ``systemctl reload UNIT``
# (None: ``reload`` also under systemd); files: what the server reads by default.
PRESETS = {
    "nginx": dict(test=["nginx", "-t"], reload=["nginx", "-s", "reload"], unit="nginx", files=PEM_OUTPUTS),
    # apache2ctl graceful goes through systemd itself where it runs.
    "apache2": dict(test=["apache2ctl", "configtest"], reload=["apache2ctl", "graceful"], unit=None,
                    files=PEM_OUTPUTS),
    "haproxy": dict(test=["haproxy", "-c", "-f", "/etc/haproxy/haproxy.cfg"],
                    reload=["/etc/init.d/haproxy", "reload"], unit="haproxy", files=PEM_OUTPUTS),
    "postfix": dict(test=["postfix", "check"], reload=["postfix", "reload"], unit=None, files=PEM_OUTPUTS),
    # A unit of its own (a Java server reading the PKCS#12 file, ...): reload-or-restart.
    "systemd": dict(test=None, reload=None, unit=None, files=OUTPUTS),
    "custom": dict(test=None, reload=None, unit=None, files=OUTPUTS),
}


class ServiceError(ValueError):
    """``option``: the service's place (``services[1].reload``); ``msg`` names it."""

    def __init__(self, option, reason):
        self.option = option
        self.msg = "%s: %s" % (option, reason)
        super().__init__(self.msg)


def _argv(value, option):
    if value is None:
        return None
    if not isinstance(value, list) or not value or not all(isinstance(x, str) and x for x in value):
        raise ServiceError(option, "must be a command as a list of strings (argv, no shell), e.g. [nginx, -t]")
    return list(value)


def check(service, option="services[0]"):
    """One service, normalised to a dict of every key of KEYS; raises ServiceError naming
    ``option`` (and the key) for anything wrong."""
    if isinstance(service, str):
        service = dict(name=service)
    if not isinstance(service, dict):
        raise ServiceError(option, "must be a preset name (%s) or a dict {name, preset, test, reload, unit, files}"
                           % ", ".join(sorted(PRESETS)))
    unknown = sorted(set(k for k, v in service.items() if v is not None) - set(KEYS), key=str)
    if unknown:
        raise ServiceError("%s.%s" % (option, unknown[0]), "is not a known key (%s)" % ", ".join(KEYS))
    name = service.get("name")
    preset = service.get("preset")
    if name is not None and (not isinstance(name, str) or not name):
        raise ServiceError(option + ".name", "must be a non-empty string")
    if preset is None:
        preset = name if name in PRESETS else "custom"
    if preset not in PRESETS:
        raise ServiceError(option + ".preset", "must be one of %s, got %r" % (", ".join(sorted(PRESETS)), preset))
    name = name or preset
    test = _argv(service.get("test"), option + ".test")
    reload = _argv(service.get("reload"), option + ".reload")
    unit = service.get("unit")
    if unit is not None and (not isinstance(unit, str) or not unit or "/" in unit):
        raise ServiceError(option + ".unit", "must be a systemd unit name such as tomcat10, got %r" % (unit,))
    if preset == "systemd" and not unit:
        raise ServiceError(option + ".unit", "is required by preset systemd (the unit to reload-or-restart)")
    if preset == "custom" and not reload and not unit:
        raise ServiceError(option, "needs reload (a command) or unit (a systemd unit) so that service %s loads "
                           "the new files (or a preset: %s)" % (name, ", ".join(sorted(PRESETS))))
    files = service.get("files")
    if files is None:
        files = list(PRESETS[preset]["files"])
    elif not isinstance(files, list) or not files or any(f not in OUTPUTS for f in files):
        raise ServiceError(option + ".files", "must be a list of outputs the service reads, of %s; got %r"
                           % (", ".join(OUTPUTS), files))
    return dict(name=name, preset=preset, test=test, reload=reload, unit=unit, files=list(files))


def check_all(services, option="services"):
    """Every service of a list (see ``check``); raises the first ServiceError."""
    if services is None:
        return []
    if not isinstance(services, list):
        raise ServiceError(option, "must be a list of services (preset names or dicts)")
    out = [check(s, "%s[%d]" % (option, i)) for i, s in enumerate(services)]
    names = [s["name"] for s in out]
    for i, name in enumerate(names):
        if name in names[:i]:
            raise ServiceError("%s[%d].name" % (option, i), "%r is also the name of another service" % name)
    return out


def systemd_running(root="/"):
    """As sd_booted(3): systemd is the init system when /run/systemd/system exists."""
    return os.path.isdir(os.path.join(root, "run", "systemd", "system"))


def commands(service, systemd=None):
    """(test argv or None, reload argv) of a checked service on this host."""
    if systemd is None:
        systemd = systemd_running()
    preset = PRESETS[service["preset"]]
    test = service["test"] if service["test"] is not None else preset["test"]
    if service["reload"] is not None:
        return test, service["reload"]
    unit = service["unit"] or preset["unit"]
    if service["preset"] in ("systemd", "custom"):
        return test, ["systemctl", "reload-or-restart", unit]
    if systemd and unit:
        return test, ["systemctl", "reload", unit]
    return test, preset["reload"]


def affected(service, changed):
    """Whether one of the outputs the service reads is among ``changed`` (output names)."""
    return any(f in changed for f in service["files"])

#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, wotrus.pki contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

# No `from __future__ import annotations`: this file runs on managed hosts, and one with
# Python 3.6 or 3.7 (ansible-core 2.16 allows them) must get certificate_status's refusal, not a SyntaxError.

DOCUMENTATION = r'''
module: certificate_dcv_file
short_description: Publish or remove HTTP domain validation files on a web host
version_added: 0.1.0
description:
  - Writes (O(state=present)) or removes (O(state=absent)) the files a CA fetches over HTTP to
    validate a domain, such as Sectigo's C(/.well-known/pki-validation/<MD5>.txt) (CSR-hash DCV).
  - The certificate role runs it from its controller step (M(wotrus.pki.certificate_issue)) when
    C(certificate_dcv) is C(http). It publishes the files while the order waits in C(pendingDCV) and
    removes them once the order is issued. It can also be used on its own.
  - Only files named C(.well-known/pki-validation/NAME.txt) are handled, so the module cannot
    be turned into a way of writing or deleting other files.
  - Files are written atomically, mode O(mode); missing C(.well-known) and C(pki-validation)
    directories are made (mode 0755) and returned in RV(created_dirs) so that they can be
    removed again (O(dirs)) when they are empty.
author:
  - wotrus.pki contributors (@wotrus)
options:
  state:
    description: C(present) writes the files with their content, C(absent) removes them.
    type: str
    choices: [present, absent]
    default: present
  files:
    description: The files, absolute paths on the host ending in C(/.well-known/pki-validation/NAME.txt).
    type: list
    elements: dict
    required: true
    suboptions:
      path:
        description: Absolute path of the file.
        type: path
        required: true
      content:
        description: The content (required for O(state=present)), written as given.
        type: str
  dirs:
    description:
      - With O(state=absent), directories to remove after the files when they are empty
        (what RV(created_dirs) returned when the files were published). Only C(.well-known) and
        C(pki-validation) directories are removed, deepest first.
    type: list
    elements: path
    default: []
  mode:
    description: Mode of the files (the web server must be able to read them).
    type: str
    default: "0644"
extends_documentation_fragment:
  - wotrus.pki.attributes.platform_posix
attributes:
  check_mode:
    support: full
    description: Says what would change and changes nothing.
  diff_mode:
    support: none
    description: No diff is returned.
requirements:
  - Python >= 3.8 on the host (no other library)
seealso:
  - module: wotrus.pki.sectigo_order_status
  - module: wotrus.pki.certificate_issue
'''

EXAMPLES = r'''
- name: Read the Sectigo order's DCV values
  wotrus.pki.sectigo_order_status:
    order_number: "654824"
  delegate_to: localhost
  register: sectigo

- name: Publish the HTTP validation file
  wotrus.pki.certificate_dcv_file:
    files:
      - path: "/var/www/html{{ sectigo.domains[0].http_file_path }}"
        content: "{{ sectigo.domains[0].http_file_content }}"
  register: dcv_files

- name: Remove it once the certificate is issued
  wotrus.pki.certificate_dcv_file:
    state: absent
    files:
      - path: "/var/www/html{{ sectigo.domains[0].http_file_path }}"
    dirs: "{{ dcv_files.created_dirs }}"
'''

RETURN = r'''
paths:
  sample: ["/var/www/html/.well-known/pki-validation/DE97586E5DBB12DB9B17DEA5C7D005E7.txt"]
  description: The files written (present) or removed (absent) by this run.
  type: list
  elements: str
  returned: always
created_dirs:
  sample: ["/var/www/html/.well-known", "/var/www/html/.well-known/pki-validation"]
  description: Directories made by this run (O(state=present)), deepest last.
  type: list
  elements: str
  returned: always
removed_dirs:
  sample: ["/var/www/html/.well-known/pki-validation", "/var/www/html/.well-known"]
  description: Directories removed by this run (O(state=absent)).
  type: list
  elements: str
  returned: always
'''

import os
import posixpath
import re

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.common.text.converters import to_bytes

from ansible_collections.wotrus.pki.plugins.module_utils import _files

FILE_RE = re.compile(r"^/(?:.+/)?\.well-known/pki-validation/[A-Za-z0-9._-]+\.txt$")
DIR_NAMES = (".well-known", "pki-validation")


def _check_path(module, path):
    if not path or not posixpath.isabs(path) or posixpath.normpath(path) != path or not FILE_RE.match(path):
        module.fail_json(msg="%r is not an absolute path ending in /.well-known/pki-validation/NAME.txt" % (path,))
    return path


def _makedirs(module, directory, created):
    """Make ``directory`` and missing parents up to the web root; the DCV directories only."""
    if os.path.isdir(directory):
        return
    parent = os.path.dirname(directory)
    if os.path.basename(directory) not in DIR_NAMES:
        module.fail_json(msg="directory %s does not exist on the host (is the web root right?)" % directory)
    _makedirs(module, parent, created)
    if not module.check_mode:
        os.mkdir(directory, 0o755)
        os.chmod(directory, 0o755)
    created.append(directory)


def present(module, files, mode, result):
    attrs = _files.FileAttrs(mode=mode)
    for item in files:
        path = _check_path(module, item["path"])
        if item.get("content") is None:
            module.fail_json(msg="files: content is required for %s with state=present" % path)
        if os.path.isdir(path):
            module.fail_json(msg="files: %s is a directory, not a file" % path)
        data = to_bytes(item["content"], errors="surrogate_or_strict")
        if not _files.differs(path, data, attrs):
            continue
        _makedirs(module, os.path.dirname(path), result["created_dirs"])
        result["paths"].append(path)
        if not module.check_mode:
            _files.write_atomic(path, data, attrs, module)


def absent(module, files, dirs, result):
    for item in files:
        path = _check_path(module, item["path"])
        if os.path.lexists(path):
            result["paths"].append(path)
            if not module.check_mode:
                os.unlink(path)
    for directory in sorted(set(dirs), key=lambda d: -d.count("/")):
        if not posixpath.isabs(directory) or os.path.basename(directory) not in DIR_NAMES:
            module.fail_json(msg="dirs: %r is not a .well-known or pki-validation directory" % (directory,))
        if os.path.isdir(directory) and not os.path.islink(directory):
            removed = result["paths"] if module.check_mode else []
            left = [n for n in os.listdir(directory) if posixpath.join(directory, n) not in removed]
            if not left:
                result["removed_dirs"].append(directory)
                if not module.check_mode:
                    os.rmdir(directory)


def main():
    module = AnsibleModule(
        argument_spec=dict(
            state=dict(type="str", default="present", choices=["present", "absent"]),
            files=dict(type="list", elements="dict", required=True,
                       options=dict(path=dict(type="path", required=True), content=dict(type="str"))),
            dirs=dict(type="list", elements="path", default=[]),
            mode=dict(type="str", default="0644"),
        ),
        supports_check_mode=True,
    )
    p = module.params
    try:
        mode = _files.parse_mode(p["mode"])
    except _files.FileError as exc:
        module.fail_json(msg=exc.msg, option=exc.option)
    result = dict(changed=False, paths=[], created_dirs=[], removed_dirs=[])
    try:
        if p["state"] == "present":
            present(module, p["files"], mode, result)
        else:
            absent(module, p["files"], p["dirs"], result)
    except (IOError, OSError) as exc:
        module.fail_json(msg="could not %s the validation files: %s" % (
            "write" if p["state"] == "present" else "remove", exc), **result)
    result["changed"] = bool(result["paths"] or result["created_dirs"] or result["removed_dirs"])
    module.exit_json(**result)


if __name__ == "__main__":
    main()

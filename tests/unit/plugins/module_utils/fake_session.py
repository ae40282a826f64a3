# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A ``requests.Session`` stand-in for the provider clients' tests.

It answers from a list -- an ``HttpAnswer``, a ``(status, body)`` pair or an
exception to raise -- and records every request as requests itself prepares
it (so a multipart body is the bytes that would go on the wire). It sits
where the session sits: urllib3's retries do not run here (the HTTP stack's
retries are tested against a real socket, ``scripted_server.py``).
"""

from __future__ import annotations

import requests


class FakeHttpSession:
    def __init__(self, answers=()):
        self.answers = list(answers)
        self.requests = []

    def mount(self, *args):
        pass

    def __call__(self):  # usable as a replacement for requests.Session
        return self

    def request(self, method, url, params=None, data=None, files=None, headers=None, **kwargs):
        prepared = requests.Request(method, url, params=params, data=data, files=files, headers=headers).prepare()
        self.requests.append(dict(method=method, url=url, body=prepared.body, headers=dict(prepared.headers),
                                  timeout=kwargs.get("timeout"), verify=kwargs.get("verify")))
        if not self.answers:
            raise AssertionError("unexpected request %s %s" % (method, url))
        item = self.answers.pop(0)
        if isinstance(item, BaseException):
            raise item
        if isinstance(item, tuple):
            status, answer_headers, body = item[0], {}, item[1]
        else:
            status, answer_headers, body = item.status, item.headers, item.body
        resp = requests.Response()
        resp.status_code = status
        resp.url = url
        resp.headers.update(answer_headers or {})
        resp._content = body
        return resp

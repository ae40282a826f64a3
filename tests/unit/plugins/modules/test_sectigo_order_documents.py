# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

import json

import pytest
from ansible.module_utils.testing import patch_module_args

from ansible_collections.wotrus.pki.plugins.module_utils import _http
from ansible_collections.wotrus.pki.plugins.module_utils._http import HttpAnswer
from ansible_collections.wotrus.pki.plugins.module_utils._sectigo.client import UPLOAD_SUCCESS_URL
from ansible_collections.wotrus.pki.plugins.modules import sectigo_order_documents

from ..module_utils._sectigo.helpers import FakeTransport, json_answer, seed_answer


def run(args, capsys):
    with patch_module_args(args):
        with pytest.raises(SystemExit):
            sectigo_order_documents.main()
    return json.loads(capsys.readouterr().out)


@pytest.fixture
def transport(monkeypatch):
    fake = FakeTransport([])
    monkeypatch.setattr(_http.requests, "Session", fake)
    return fake


@pytest.fixture
def doc(tmp_path):
    path = tmp_path / "licence.pdf"
    path.write_bytes(b"%PDF-1.4")
    return str(path)


def args(doc, **extra):
    base = dict(login_name="partner", login_password="pw", order_number="654824", files=[doc], comment="c")
    base.update(extra)
    return base


def test_check_mode_reads_but_does_not_upload(transport, doc, capsys):
    transport.answers.append(json_answer(seed_answer()))
    result = run(args(doc, _ansible_check_mode=True), capsys)
    assert result["changed"] is True and result["uploaded"] is False
    assert len(transport.requests) == 1  # the status read only
    assert result["documents"][0]["size"] == 8


def test_uploads_with_the_token_from_the_status(transport, doc, capsys):
    data = seed_answer()
    transport.answers.extend([json_answer(data), HttpAnswer(303, {"Location": UPLOAD_SUCCESS_URL}, b"")])
    result = run(args(doc), capsys)
    assert result["changed"] is True and result["uploaded"] is True
    upload = transport.requests[1]
    assert upload["url"] == data["data"]["uploadDocumentUrl"]
    assert data["data"]["uploadDocumentToken"].encode() in upload["body"]
    assert data["data"]["uploadDocumentToken"] not in json.dumps(result)


def test_direct_url_and_token(transport, doc, capsys):
    transport.answers.append(HttpAnswer(200, {}, b'{"success": true}'))
    result = run(dict(upload_url="https://up.test/x", upload_token="tok", files=[doc]), capsys)
    assert result["changed"] is True and len(transport.requests) == 1


def test_completed_organisation_uploads_nothing(transport, doc, capsys):
    data = seed_answer()
    data["data"]["organizationStatus"]["status"] = "Completed"
    transport.answers.append(json_answer(data))
    result = run(args(doc, ignore_when_completed=True), capsys)
    assert result["changed"] is False and len(transport.requests) == 1


def test_missing_file(transport, capsys, tmp_path):
    result = run(args(str(tmp_path / "nope.pdf")), capsys)
    assert result["failed"] is True and "does not exist" in result["msg"]
    assert transport.requests == []


def test_refused_upload(transport, doc, capsys):
    transport.answers.extend([json_answer(seed_answer()), HttpAnswer(401, {}, b"expired")])
    result = run(args(doc), capsys)
    assert result["failed"] is True and result["http_status"] == 401 and "token" in result["msg"]

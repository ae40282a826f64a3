# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""One error tree: the three providers' errors share one to_result() and its field names."""
from __future__ import annotations

import pytest

from ansible_collections.wotrus.pki.plugins.module_utils._errors import PkiError
from ansible_collections.wotrus.pki.plugins.module_utils._jintong.errors import JintongApiError, JintongError
from ansible_collections.wotrus.pki.plugins.module_utils._sectigo.errors import SectigoAuthError, SectigoError
from ansible_collections.wotrus.pki.plugins.module_utils._wotrus.errors import ApiError, InputError, WoTrusError

FIELDS = {"msg", "error_kind", "provider", "http_status", "url", "method", "request_id", "error_msg", "error_code",
          "attempts"}


@pytest.mark.parametrize("err,base,provider,kind", [
    (ApiError("refused", status=200, url="https://api/x", method="POST", request_id="r1", error_msg="no"),
     WoTrusError, "wotrus", "api"),
    (SectigoAuthError("login refused", status=200, url="https://s/x", method="POST", error_code=-16,
                      error_msg="Incorrect login"), SectigoError, "sectigo", "auth"),
    (JintongApiError("refused", status=200, url="http://j/x", method="POST", error_code="SignFail",
                     error_msg="签名错误"), JintongError, "jintong", "api"),
])
def test_every_provider_error_has_the_same_fields(err, base, provider, kind):
    assert isinstance(err, base) and isinstance(err, PkiError)
    result = err.to_result()
    assert FIELDS <= set(result)
    assert result["provider"] == provider and result["error_kind"] == kind
    assert result["msg"].startswith(err.message + " [HTTP 200; POST ")


def test_input_error_names_the_option():
    result = InputError("timeout", "must be greater than 0").to_result()
    assert result["option"] == "timeout" and result["msg"] == "timeout: must be greater than 0"
    assert result["error_kind"] == "input"


def test_scrub_reaches_every_text_field():
    secret = "s3cret-token-value"
    err = ApiError("bad %s" % secret, url="https://api/?t=%s" % secret, error_msg=secret, error_code=secret,
                   details={"echo": [secret]}).scrub([secret])
    assert secret not in repr(err.to_result()) and secret not in str(err)

# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""An order read from the API never carries the U-key password on (it echoes the Create parameters)."""

from __future__ import annotations

from ansible_collections.wotrus.pki.plugins.module_utils._wotrus import orders


class Answer:
    status, url, request_id = 200, "https://x/v1/Order/1", "r"

    def __init__(self, data):
        self.data = data


class Client:
    def __init__(self, data):
        self.data = data

    def order_path(self, order_id):
        return "/v1/Order/%s" % order_id

    def get(self, path, what=None):
        return Answer(self.data)


def test_get_order_drops_the_ukey_password_in_any_casing():
    for key in ("uKeyPassword", "ukeypassword", "UKEYPASSWORD"):
        order = orders.get_order(Client({"status": "issued", key: "s3cret-sentinel", "id": "1"}), "1")
        assert "s3cret-sentinel" not in repr(order)
        assert order["status"] == "issued" and order["id"] == "1"

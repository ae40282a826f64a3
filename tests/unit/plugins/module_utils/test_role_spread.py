# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The renewal spread (certificate_renew_spread_days): deterministic, inside its window, a steady
share per night across a fleet bought at once, capped at half the time before the threshold, and
what certificate_status makes due with it."""

from __future__ import annotations

import collections
import datetime

import pytest

from ansible_collections.wotrus.pki.plugins.module_utils import _role_status as role_status

from .test_role_status import NOW, Host


@pytest.fixture
def host(tmp_path):
    return Host(tmp_path)


DAY = datetime.timedelta(days=1)
NB = datetime.datetime(2026, 1, 5, 10, 0, tzinfo=datetime.timezone.utc)
NA = NB + 365 * DAY


def test_fraction_is_deterministic_and_depends_on_host_and_name():
    f = role_status.renew_spread_fraction("web1", "www")
    assert f == role_status.renew_spread_fraction("web1", "www")
    assert 0 <= f < 1
    assert f != role_status.renew_spread_fraction("web2", "www")
    assert f != role_status.renew_spread_fraction("web1", "api")
    # Not a concatenation: host "a", name "bc" is not host "ab", name "c".
    assert role_status.renew_spread_fraction("a", "bc") != role_status.renew_spread_fraction("ab", "c")


def test_no_spread_is_the_threshold():
    assert role_status.renew_on(NB, NA, 30, 0, 0, "web1", "www") == NA - 30 * DAY
    # The percentage, when it comes first, is the threshold.
    assert role_status.renew_on(NB, NA, 30, 20, 0, "web1", "www") == NA - 73 * DAY


@pytest.mark.parametrize("host", ["web%d" % i for i in range(50)])
def test_renew_on_is_inside_the_window(host):
    threshold = NA - 30 * DAY
    when = role_status.renew_on(NB, NA, 30, 0, 14, host, "www")
    assert threshold - 14 * DAY <= when <= threshold
    assert when == threshold - 14 * DAY * role_status.renew_spread_fraction(host, "www")


def test_a_fleet_bought_at_once_renews_a_steady_share_each_night():
    n, spread = 6000, 30
    threshold = NA - 30 * DAY
    nights = collections.Counter()
    for i in range(n):
        when = role_status.renew_on(NB, NA, 30, 0, spread, "host%04d.example.com" % i, "www")
        nights[(threshold - when).days] += 1
    assert sorted(nights) == list(range(spread))
    share = n / spread
    # Binomial spread around 200 a night: every night within 30 % of it (without the spread: all 6000 at once).
    assert all(abs(c - share) < 0.3 * share for c in nights.values()), nights


def test_the_window_is_capped_at_half_the_time_before_the_threshold():
    # A 90-day certificate, 30 days before its end, spread over 365 days: the window is 30 days (half of 60).
    na = NB + 90 * DAY
    threshold = na - 30 * DAY
    times = [role_status.renew_on(NB, na, 30, 0, 365, "h%d" % i, "www") for i in range(500)]
    assert all(NB + 30 * DAY <= t <= threshold for t in times)
    assert min(times) < NB + 31 * DAY  # it is used, not just clamped to its edge
    assert len(set(times)) == 500
    # A certificate already past its threshold at notBefore (threshold longer than its life): no window.
    short = NB + 10 * DAY
    assert role_status.renew_on(NB, short, 30, 0, 365, "h1", "www") == short - 30 * DAY


def test_status_with_a_spread_is_due_once_its_day_is_reached(host):
    # 65 days left, renew 30 days before the end, spread 60 days (capped at half of 300+35 days: 60).
    host.deploy()
    plain = host.status()
    assert plain["due"] == "none" and plain["renew_on"] == role_status.iso(NOW + 35 * DAY)
    assert plain["plan"] == "not due, renews on %s" % plain["renew_on"]
    due_hosts = 0
    for i in range(40):
        st = host.status(renew_spread_days=60, renew_spread_host="web%d" % i)
        when = NOW + 35 * DAY - 60 * DAY * role_status.renew_spread_fraction("web%d" % i, "www")
        assert st["renew_on"] == role_status.iso(when)
        if when <= NOW:
            assert st["due"] == "renew" and "renew_spread_days 60" in st["why"], st["why"]
            assert st["plan"] == "due: renew" and st["month"] == 13
            due_hosts += 1
        else:
            assert st["due"] == "none", st["why"]
            assert st["plan"] == "not due, renews on %s (spread over 60 days)" % st["renew_on"]
    # About 25 of 60 days of the window are behind NOW: some hosts are due, most are not.
    assert 0 < due_hosts < 40


def test_status_without_a_certificate_has_no_renew_on(host):
    st = host.status(renew_spread_days=30, renew_spread_host="web1")
    assert st["due"] == "new" and st["renew_on"] is None and st["plan"] == "due: new"

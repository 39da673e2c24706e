"""Mount unit names as systemd-escape --path --suffix=mount makes them."""

import pytest
from ansible.errors import AnsibleFilterError
from ansible_collections.lvs.cluster.plugins.filter.systemd import FilterModule

mount_unit = FilterModule().filters()["systemd_mount_unit"]

# expected values printed by systemd-escape 252 (Debian 12)
CASES = [
    ("/srv/www", "srv-www.mount"),
    ("/srv/my-www", "srv-my\\x2dwww.mount"),
    ("/.hidden/a.b", "\\x2ehidden-a.b.mount"),
    ("/x y", "x\\x20y.mount"),
    ("/", "-.mount"),
    ("/a/.b", "a-.b.mount"),
    ("/a/b.", "a-b..mount"),
    ("//srv//www/", "srv-www.mount"),
    ("/srv/www_1:2", "srv-www_1:2.mount"),
    ("/srv/\u00e4", "srv-\\xc3\\xa4.mount"),
]


@pytest.mark.parametrize(("path", "unit"), CASES)
def test_mount_unit_name(path, unit):
    assert mount_unit(path) == unit


@pytest.mark.parametrize("path", ["srv/www", "/srv/../etc", "", None])
def test_not_an_absolute_normal_path(path):
    with pytest.raises(AnsibleFilterError):
        mount_unit(path)

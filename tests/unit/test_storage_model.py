"""Shared storage in the topology model: validation messages and the roles' variables."""

import copy

import model_api as topo
import pytest
from topology_cases import groups, hosts, model

STORAGE = {"nfs1": 31, "gl1": 41, "gl2": 42, "gl3": 43}


def inventory(*storage):
    h = hosts()
    for name in storage:
        n = STORAGE[name]
        h[name] = {
            "ansible_host": f"198.51.100.{n}",
            "lvs_interfaces": [
                {"name": "eth0", "segment": "back", "address": f"198.51.100.{n}/24"}
            ],
        }
    g = groups()
    g["storage"] = list(storage)
    g["all"] = [*g["directors"], *g["realservers"], *storage]
    return h, g


NFS = {
    "backend": "nfs",
    "segment": "back",
    "nfs": {"version": "4.2"},
    "shares": [
        {
            "name": "www",
            "export": "/srv/nfs/www",
            "export_options": ["rw", "sync", "all_squash", "anonuid=33", "anongid=33"],
            "export_owner": "www-data",
            "mount": "/srv/www",
            "clients": ["realservers"],
            "mount_options": ["hard", "timeo=50"],
        }
    ],
}
GLUSTER = {
    "backend": "glusterfs",
    "segment": "back",
    "glusterfs": {"replica": 3, "brick_device": "/dev/ubdb"},
    "shares": [
        {
            "name": "www",
            "mount": "/srv/www",
            "clients": ["rs1", "rs2", "rs3"],
            "options": {"network.ping-timeout": 5},
        }
    ],
}


def nfs_case():
    m = model()
    m["storage"] = copy.deepcopy(NFS)
    m["applications"]["web"]["shares"] = {"document_root": "www"}
    return (m, *inventory("nfs1"))


def gluster_case():
    m = model()
    m["storage"] = copy.deepcopy(GLUSTER)
    m["applications"]["web"]["shares"] = {"document_root": "www"}
    return (m, *inventory("gl1", "gl2", "gl3"))


def test_sound_models_are_valid():
    for m, h, g in (nfs_case(), gluster_case()):
        assert topo.validate(m, h, g) == []


def _mutated(base, fn):
    """A case: the base model and inventory, then fn(storage, model, hosts, groups)."""

    def case():
        m, h, g = base()
        fn(m["storage"], m, h, g)
        return m, h, g

    return case


def _nfs(fn):
    return _mutated(nfs_case, fn)


def _gl(fn):
    return _mutated(gluster_case, fn)


def _share(s):
    return s["shares"][0]


def _set(d, key, value):
    d[key] = value


BAD = [
    ("export-path-relative",
     _nfs(lambda s, *_: _set(_share(s), "export", "srv/nfs/www")),
     "share www: export 'srv/nfs/www' must be an absolute path on the NFS server"),
    ("export-path-with-dotdot",
     _nfs(lambda s, *_: _set(_share(s), "export", "/srv/../etc")),
     "share www: export '/srv/../etc' must be an absolute path"),
    ("export-missing",
     _nfs(lambda s, *_: _share(s).pop("export")),
     "share www: export None must be an absolute path"),
    ("mount-relative",
     _nfs(lambda s, *_: _set(_share(s), "mount", "www")),
     "share www: mount 'www' must be an absolute path"),
    ("mount-root",
     _nfs(lambda s, *_: _set(_share(s), "mount", "/")),
     "share www: mount '/' must be an absolute path"),
    ("unknown-client",
     _nfs(lambda s, *_: _set(_share(s), "clients", ["rs1", "rs9"])),
     "share www: clients: unknown host or group 'rs9'"),
    ("no-clients",
     _nfs(lambda s, *_: _set(_share(s), "clients", [])),
     "share www: clients: must name hosts or groups of the inventory"),
    ("client-off-the-storage-segment",
     _nfs(lambda s, m, h, g: _set(h["rs2"], "lvs_interfaces", h["rs2"]["lvs_interfaces"][:1])),
     "share www: client rs2 has no interface on segment back"),
    ("unknown-backend",
     _nfs(lambda s, *_: _set(s, "backend", "ceph")),
     "lvs_storage.backend 'ceph' must be one of nfs, glusterfs"),
    ("unknown-segment",
     _nfs(lambda s, *_: _set(s, "segment", "storage")),
     "lvs_storage.segment 'storage' is not a segment of lvs_segments"),
    ("no-storage-group",
     _nfs(lambda s, m, h, g: g.pop("storage")),
     "lvs_storage: no storage servers: put them in the inventory's 'storage' group"),
    ("two-nfs-servers",
     _nfs(lambda s, m, h, g: g["storage"].append("rs3")),
     "the nfs backend has one server, the model names 2 (nfs1, rs3)"),
    ("server-off-the-segment",
     _nfs(lambda s, m, h, g: _set(s, "segment", "front")),
     "storage server nfs1: has no interface on segment front"),
    ("nfs-version",
     _nfs(lambda s, *_: _set(s["nfs"], "version", "3")),
     "lvs_storage.nfs.version '3' must be one of 4, 4.0, 4.1, 4.2"),
    ("export-option-with-comma",
     _nfs(lambda s, *_: _set(_share(s), "export_options", ["rw,sync"])),
     "share www: export_options: must be a list of options"),
    ("duplicate-share",
     _nfs(lambda s, *_: s["shares"].append({**_share(s), "mount": "/srv/b", "export": "/b"})),
     "share www: declared twice"),
    ("duplicate-export",
     _nfs(lambda s, *_: s["shares"].append({**_share(s), "name": "b", "mount": "/srv/b"})),
     "share b: export /srv/nfs/www is also share www's"),
    ("duplicate-mount",
     _nfs(lambda s, *_: s["shares"].append({**_share(s), "name": "b", "export": "/b"})),
     "share b: mount /srv/www is also share www's"),
    ("share-name",
     _nfs(lambda s, *_: _set(_share(s), "name", "w w")),
     "name 'w w' must be letters, digits"),
    ("unknown-share-key",
     _nfs(lambda s, *_: _set(_share(s), "exprot", "/x")),
     "share www: unknown key 'exprot'"),
    ("volume-options-on-nfs",
     _nfs(lambda s, *_: _set(_share(s), "options", {"a": 1})),
     "share www: options are GlusterFS volume options; the backend is nfs"),
    ("replica-larger-than-servers",
     _gl(lambda s, m, h, g: g["storage"].remove("gl3")),
     "replica 3 needs 3 storage servers, the model has 2"),
    ("arbiter-larger-than-servers",
     _gl(lambda s, m, h, g: (_set(s["glusterfs"], "arbiter", True),
                             _set(s["glusterfs"], "replica", 3))),
     "replica 3 plus an arbiter needs 4 storage servers, the model has 3"),
    ("replica-two-without-arbiter",
     _gl(lambda s, *_: _set(s["glusterfs"], "replica", 2)),
     "replica 2 without an arbiter can split-brain"),
    ("replica-one",
     _gl(lambda s, *_: _set(s["glusterfs"], "replica", 1)),
     "replica 1 must be a number of copies from 2"),
    ("servers-not-whole-replica-sets",
     _gl(lambda s, m, h, g: g["storage"].append("nfs1") or h.update(inventory("nfs1")[0])),
     "4 storage servers do not divide into replica sets of 3"),
    ("brick-on-root-without-force",
     _gl(lambda s, *_: s["glusterfs"].pop("brick_device")),
     "bricks would sit on the root file system; give brick_device"),
    ("brick-device-not-a-device",
     _gl(lambda s, *_: _set(s["glusterfs"], "brick_device", "ubdb")),
     "brick_device 'ubdb' must be a /dev path"),
    ("brick-filesystem",
     _gl(lambda s, *_: _set(s["glusterfs"], "brick_filesystem", "btrfs")),
     "brick_filesystem 'btrfs' must be one of xfs, ext4"),
    ("export-on-gluster",
     _gl(lambda s, *_: _set(_share(s), "export", "/srv/x")),
     "share www: export is an NFS setting; the backend is glusterfs"),
    ("volume-options-not-a-mapping",
     _gl(lambda s, *_: _set(_share(s), "options", ["network.ping-timeout=5"])),
     "share www: options must map volume options to values"),
    ("nfs-settings-on-gluster",
     _gl(lambda s, *_: _set(s, "nfs", {"version": "4.2"})),
     "nfs settings given but the backend is glusterfs"),
    ("web-share-unknown",
     _nfs(lambda s, m, *_: _set(m["applications"]["web"]["shares"], "document_root", "static")),
     "application web: document_root share 'static' is not a share of lvs_storage"),
    ("web-share-not-on-every-real-server",
     _gl(lambda s, *_: _set(_share(s), "clients", ["rs1", "rs2"])),
     "application web: host rs3 does not mount share www (document_root)"),
]  # fmt: skip


@pytest.mark.parametrize(("case", "expected"), [c[1:] for c in BAD], ids=[c[0] for c in BAD])
def test_bad_storage_is_reported(case, expected):
    errors = topo.validate(*case())
    assert any(expected in e for e in errors), f"{expected!r} not in {errors}"


def test_case_ids_are_unique():
    assert len({c[0] for c in BAD}) == len(BAD)


GOOD = [
    ("root-brick-with-force",
     _gl(lambda s, *_: (s["glusterfs"].pop("brick_device"), _set(s["glusterfs"], "force", True)))),
    ("replica-two-with-arbiter",
     _gl(lambda s, *_: (_set(s["glusterfs"], "replica", 2),
                        _set(s["glusterfs"], "arbiter", True)))),
    ("ext4-bricks", _gl(lambda s, *_: _set(s["glusterfs"], "brick_filesystem", "ext4"))),
    ("no-web-share", _nfs(lambda s, m, *_: m["applications"]["web"].pop("shares"))),
    ("default-export-options", _nfs(lambda s, *_: _share(s).pop("export_options"))),
]  # fmt: skip


@pytest.mark.parametrize("case", [c[1] for c in GOOD], ids=[c[0] for c in GOOD])
def test_sound_variation_is_accepted(case):
    assert topo.validate(*case()) == []


def _app(host_vars, name):
    return next(a for a in host_vars["lvs_applications"] if a["name"] == name)["vars"]


def test_nfs_roles_variables():
    m, h, g = nfs_case()
    server = topo.host_vars(m, h, g, "nfs1")
    assert server["nfs_server_exports"] == [
        {
            "name": "www",
            "path": "/srv/nfs/www",
            "clients": ["198.51.100.21", "198.51.100.22", "198.51.100.23"],
            "options": ["rw", "sync", "all_squash", "anonuid=33", "anongid=33"],
            "owner": "www-data",
        }
    ]
    assert server["nfs_client_mounts"] == [] and server["lvs_applications"] == []
    client = topo.host_vars(m, h, g, "rs2")
    assert client["nfs_client_mounts"] == [
        {
            "name": "www",
            "source": "198.51.100.31:/srv/nfs/www",
            "path": "/srv/www",
            "version": "4.2",
            "options": ["hard", "timeo=50"],
        }
    ]
    web = _app(client, "web")
    assert web["web_document_root"] == "/srv/www" and web["web_document_root_shared"] is True
    assert client["lvs_realserver_vips"]  # storage does not hide the real-server part
    assert topo.host_vars(m, h, g, "dir1")["nfs_client_mounts"] == []


def test_glusterfs_roles_variables():
    m, h, g = gluster_case()
    m["storage"]["glusterfs"].update(replica=2, arbiter=True)
    first, other = topo.host_vars(m, h, g, "gl1"), topo.host_vars(m, h, g, "gl3")
    assert first["glusterfs_primary"] and not other["glusterfs_primary"]
    assert first["glusterfs_peers"] == ["198.51.100.41", "198.51.100.42", "198.51.100.43"]
    assert first["glusterfs_brick"] == {
        "device": "/dev/ubdb",
        "filesystem": "xfs",
        "mount": "/srv/gluster",
    }
    assert first["glusterfs_volumes"] == [
        {
            "name": "www",
            "replica": 3,
            "arbiter": 1,
            "bricks": [f"198.51.100.4{i}:/srv/gluster/www/brick" for i in (1, 2, 3)],
            "force": False,
            "options": {"network.ping-timeout": 5},
        }
    ]
    client = topo.host_vars(m, h, g, "rs1")
    assert client["glusterfs_mounts"] == [
        {
            "name": "www",
            "volume": "www",
            "servers": ["198.51.100.41", "198.51.100.42", "198.51.100.43"],
            "path": "/srv/www",
            "options": [],
        }
    ]
    assert client["glusterfs_volumes"] == []
    assert _app(client, "web")["web_document_root"] == "/srv/www"


def test_plan_covers_storage_hosts():
    m, h, g = gluster_case()
    assert set(topo.plan(m, h, g)) == {"dir1", "dir2", "rs1", "rs2", "rs3", "gl1", "gl2", "gl3"}

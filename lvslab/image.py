"""Build the guests' root image: Debian bookworm with the UML kernel's modules.

The image is a golden image: it carries every package the topologies need, because
guests have no package mirror. It is cached under ``/var/cache/lvslab/images/<hash>``,
where the hash covers every input (package list, this file, the UML kernel, the apt
sources), so a change of any of them builds a new image and an unchanged one is reused.
A build happens in a temporary folder that is renamed at the very end: an interrupted
build never leaves a half-made image behind.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

from . import LabError
from .paths import IMAGES_DIR, LABS_DIR

SUITE = "bookworm"
IMAGE_SIZE = "2G"
APT_SOURCES = Path("/etc/apt/sources.list.d/debian.sources")
UML_MODULES = Path("/usr/lib/uml/modules")

# Every package a profile needs; add later topologies' packages here (one list).
PACKAGES = [
    # boot, management, Ansible
    "systemd-sysv",
    "udev",
    "dbus",
    "openssh-server",
    "python3",
    "python3-apt",
    "iproute2",
    "kmod",
    "procps",
    "iputils-ping",
    "curl",
    "netcat-openbsd",
    "socat",
    "ca-certificates",
    "openssl",
    "tcpdump",
    # directors
    "ipvsadm",
    "keepalived",
    "nftables",  # marks packets for fwmark services (hosts with nf_tables ip/ip6)
    "iptables",  # iptables-legacy: marks on kernels without them (the UML guests)
    # web real servers
    "nginx",
    # shared storage
    "nfs-kernel-server",
    "nfs-common",
    "glusterfs-server",
    "glusterfs-client",
    "xfsprogs",
    "e2fsprogs",
    # media real servers: gst-rtsp-server and the plugins of lvs-media-server's pipelines
    "python3-gi",
    "python3-gst-1.0",
    "gir1.2-gst-rtsp-server-1.0",
    "gstreamer1.0-plugins-base",
    "gstreamer1.0-plugins-good",
    # caches
    "squid",
]

# Units that start only where a play enables them (faster boot, honest plays).
DISABLED_UNITS = [
    "nginx.service",
    "keepalived.service",
    "nftables.service",
    "nfs-server.service",
    "rpcbind.service",
    "rpcbind.socket",
    "glusterd.service",
    "squid.service",
    "nfs-client.target",
    "apt-daily.timer",
    "apt-daily-upgrade.timer",
    "man-db.timer",
    "e2scrub_all.timer",
    "fstrim.timer",
    "dpkg-db-backup.timer",
    "logrotate.timer",
]

# Units a UML guest has no use for; each one costs boot time.
MASKED_UNITS = [
    "systemd-udev-trigger.service",
    "systemd-pstore.service",
    "proc-sys-fs-binfmt_misc.automount",
    "proc-sys-fs-binfmt_misc.mount",
    "systemd-binfmt.service",
    "sys-kernel-debug.mount",
    "sys-kernel-tracing.mount",
    "dev-hugepages.mount",
    "dev-mqueue.mount",
    "modprobe@drm.service",
    "modprobe@efi_pstore.service",
    "modprobe@dm_mod.service",
    "modprobe@loop.service",
    "systemd-remount-fs.service",
    "systemd-sysusers.service",
    "systemd-update-utmp.service",
    "systemd-update-utmp-runlevel.service",
    "getty@tty1.service",
    "serial-getty@.service",
    "console-getty.service",
    "getty-static.service",
    "systemd-firstboot.service",
    "systemd-random-seed.service",
    "e2scrub_reap.service",
]
MASKED_GENERATORS = [
    "systemd-gpt-auto-generator",
    "systemd-hibernate-resume-generator",
    "systemd-cryptsetup-generator",
    "systemd-integritysetup-generator",
    "systemd-veritysetup-generator",
    "systemd-getty-generator",
]

MAX_NICS = 4
# Bump when the build steps change in a way the lists above do not show.
RECIPE_VERSION = 1

FILES: dict[str, str] = {
    # Net and block devices only: networkd needs the former, fstab and mount units
    # wait for the latter's device units (e.g. a brick disk); modules are loaded
    # explicitly. Replaces the full udev coldplug (~10 s).
    "etc/systemd/system/lvslab-coldplug.service": """\
[Unit]
Description=Coldplug network and block devices
DefaultDependencies=no
After=systemd-udevd.service
Wants=systemd-udevd.service
Before=systemd-networkd.service sysinit.target

[Service]
Type=oneshot
RemainAfterExit=yes
ExecStart=/usr/bin/udevadm trigger --type=devices --action=add --subsystem-match=net \
    --subsystem-match=block
ExecStart=/usr/bin/udevadm settle --timeout=5

[Install]
WantedBy=sysinit.target
""",
    # sshd listens on the wildcard address: it needs neither network.target nor the
    # `sshd -t` pre-start of the stock unit.
    "etc/systemd/system/ssh.service": """\
[Unit]
Description=OpenBSD Secure Shell server
ConditionPathExists=!/etc/ssh/sshd_not_to_be_run

[Service]
RuntimeDirectory=sshd
RuntimeDirectoryMode=0755
ExecStart=/usr/sbin/sshd -D
ExecReload=/bin/kill -HUP $MAINPID
KillMode=process
Restart=on-failure
Type=notify

[Install]
WantedBy=multi-user.target
Alias=sshd.service
""",
    "etc/systemd/journald.conf.d/lvslab.conf": "[Journal]\nStorage=volatile\n",
    # Roles add addresses, rules and routes of their own (VIPs, NAT source rules):
    # networkd must leave what it did not configure alone.
    "etc/systemd/networkd.conf.d/lvslab.conf": (
        "[Network]\nManageForeignRoutingPolicyRules=no\nManageForeignRoutes=no\n"
    ),
    "etc/ssh/sshd_config.d/lvslab.conf": "UseDNS no\nPermitRootLogin prohibit-password\n",
    "etc/fstab": "# root is mounted rw by the kernel (root=/dev/ubda rw)\n",
    "etc/hosts": "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n",
    "etc/resolv.conf": "# no name service in the lab\n",
}
for _i in range(MAX_NICS):
    # vector NICs come up as vecN; the inventory speaks of ethN
    FILES[f"etc/systemd/network/10-vec{_i}.link"] = (
        f"[Match]\nOriginalName=vec{_i}\n\n[Link]\nName=eth{_i}\n"
    )
    # named after the unit that systemd-network-generator writes from ip=...:
    # without it wait-online holds services back for 20 s waiting for RAs
    FILES[f"etc/systemd/network/90-eth{_i}.network.d/lvslab.conf"] = "[Network]\nIPv6AcceptRA=no\n"


def uml_kernel_version() -> str:
    versions = sorted(p.name for p in UML_MODULES.iterdir()) if UML_MODULES.is_dir() else []
    if not versions:
        raise LabError(
            f"no UML kernel modules in {UML_MODULES}: install the user-mode-linux package"
        )
    return versions[-1]


def image_hash() -> str:
    """Hash of everything that goes into the image."""
    digest = hashlib.sha256()
    recipe = [
        RECIPE_VERSION,
        SUITE,
        IMAGE_SIZE,
        PACKAGES,
        DISABLED_UNITS,
        MASKED_UNITS,
        MASKED_GENERATORS,
        FILES,
    ]
    digest.update(json.dumps(recipe, sort_keys=True).encode())
    digest.update(uml_kernel_version().encode())
    if APT_SOURCES.exists():
        digest.update(APT_SOURCES.read_bytes())
    return digest.hexdigest()[:16]


def image_dir() -> Path:
    return IMAGES_DIR / image_hash()


def current_image() -> Path | None:
    """The cached image folder for today's inputs, if it was built."""
    folder = image_dir()
    return folder if (folder / "base.ext4").exists() else None


class _Steps:
    """Prints each build step with its duration."""

    def __init__(self, total: int):
        self.total, self.n, self.start = total, 0, time.monotonic()

    def __call__(self, text: str) -> None:
        self.n += 1
        print(
            f"[{self.n}/{self.total}] {text}  (+{time.monotonic() - self.start:.0f} s)", flush=True
        )


def _run(cmd: list[str], **kw) -> None:
    try:
        subprocess.run(cmd, check=True, **kw)
    except FileNotFoundError as exc:
        raise LabError(f"{cmd[0]} not found: run `make deps` (host packages)") from exc
    except subprocess.CalledProcessError as exc:
        raise LabError(
            f"image build step failed: {' '.join(cmd[:3])}... (exit {exc.returncode})"
        ) from exc


def build(force: bool = False) -> Path:
    """Build the image unless an identical one is cached; return its folder."""
    final = image_dir()
    if current_image() and not force:
        print(f"image {final.name} is up to date: {final}")
        return final
    if os.geteuid() != 0:
        raise LabError("building the image needs root (mmdebstrap, chroot)")
    for tool in ("mmdebstrap", "mkfs.ext4", "chroot"):
        if shutil.which(tool) is None:
            raise LabError(f"{tool} not found: run `make deps` (host packages)")
    kver = uml_kernel_version()
    IMAGES_DIR.mkdir(parents=True, exist_ok=True)
    work = IMAGES_DIR / f".build-{final.name}-{os.getpid()}"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir()
    rootfs = work / "rootfs"
    step = _Steps(6)
    try:
        step(f"bootstrapping Debian {SUITE} with {len(PACKAGES)} packages (mmdebstrap)")
        mirror = [str(APT_SOURCES)] if APT_SOURCES.exists() else []
        _run(
            [
                "mmdebstrap",
                "--variant=apt",
                "--quiet",
                '--aptopt=Acquire::Retries "3"',
                "--include=" + ",".join(PACKAGES),
                SUITE,
                str(rootfs),
                *mirror,
            ],
            stdout=sys.stdout,
            stderr=sys.stderr,
        )
        step(f"installing UML kernel modules {kver}")
        shutil.copytree(UML_MODULES / kver, rootfs / "lib/modules" / kver, symlinks=True)
        _run(["chroot", str(rootfs), "depmod", kver])
        step("generating the lab ssh key")
        key = work / "id_ed25519"
        _run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "lvslab", "-f", str(key)])
        ssh_dir = rootfs / "root/.ssh"
        ssh_dir.mkdir(mode=0o700, exist_ok=True)
        shutil.copy(key.with_suffix(".pub"), ssh_dir / "authorized_keys")
        (ssh_dir / "authorized_keys").chmod(0o600)
        step("trimming boot: networkd, coldplug, masked units, disabled services")
        _customize(rootfs)
        step(f"making the ext4 image ({IMAGE_SIZE}, sparse)")
        _run(
            [
                "mkfs.ext4",
                "-q",
                "-F",
                "-L",
                "root",
                "-d",
                str(rootfs),
                str(work / "base.ext4"),
                IMAGE_SIZE,
            ]
        )
        (work / "base.ext4").chmod(0o444)
        (work / "image.json").write_text(
            json.dumps(
                {
                    "hash": final.name,
                    "suite": SUITE,
                    "kernel": kver,
                    "packages": PACKAGES,
                    "built": time.strftime("%Y-%m-%dT%H:%M:%S"),
                },
                indent=2,
            )
        )
        shutil.rmtree(rootfs)
        step(f"image ready: {final}")
        if final.exists():
            shutil.rmtree(final)
        os.rename(work, final)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    _prune(keep=final)
    return final


def _customize(rootfs: Path) -> None:
    for rel, text in FILES.items():
        path = rootfs / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        if path.is_symlink():
            path.unlink()
        path.write_text(text)
    systemctl = ["systemctl", f"--root={rootfs}", "--quiet"]
    _run(
        [
            *systemctl,
            "enable",
            "systemd-networkd.service",
            "systemd-network-generator.service",
            "lvslab-coldplug.service",
            "ssh.service",
        ]
    )
    _run([*systemctl, "disable", *DISABLED_UNITS], stderr=subprocess.DEVNULL)
    _run([*systemctl, "mask", *MASKED_UNITS])
    gens = rootfs / "etc/systemd/system-generators"
    gens.mkdir(parents=True, exist_ok=True)
    for gen in MASKED_GENERATORS:
        link = gens / gen
        if not link.is_symlink():
            link.symlink_to("/dev/null")
    # no machine-id: systemd makes a fresh one per guest at boot
    (rootfs / "etc/machine-id").write_text("")


def _prune(keep: Path) -> None:
    """Drop older images that no lab boots from (a stopped guest restarts from its own)."""
    in_use = {keep.resolve()}
    for state in LABS_DIR.glob("*/lab.json"):
        try:
            in_use.add(Path(json.loads(state.read_text())["image"]).resolve())
        except (OSError, ValueError, KeyError):
            continue
    for other in IMAGES_DIR.iterdir():
        if other.is_dir() and not other.name.startswith(".") and other.resolve() not in in_use:
            shutil.rmtree(other, ignore_errors=True)

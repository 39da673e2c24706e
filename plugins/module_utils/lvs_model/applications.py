# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The applications the collection runs on the cluster's hosts, and what each serves.

An entry of ``lvs_applications`` names one of these (its ``role``, by default the
entry's own name) and the hosts it runs on; what the application serves is declared
here, once: the ports its daemons listen on (each overridable in the model under the
port's name), the shares it can keep data on, and the role settings the model may pass.
Preflight checks every virtual service against the applications of its real servers
(check_applications); the plan hands each host the role variables of its applications
(project.application_vars).

Adding an application is a role plus an :class:`ApplicationSpec` here; no playbook
changes. An application run outside the collection is declared in the model by its
``listen`` ports alone (``managed: false``).
"""

from __future__ import annotations

from dataclasses import dataclass

from ansible_collections.lvs.cluster.plugins.module_utils.lvs_model.values import port_range

# what one media session takes when nothing else is set: the media server's
# concurrent sessions (each one RTP/RTCP port pair per stream; the server streams one
# video track per file)
MEDIA_MAX_SESSIONS = 8
MEDIA_STREAMS_PER_SESSION = 1


def port_pairs(first: int, last: int) -> int:
    """RTP/RTCP pairs in a port range: RTP on an even port, RTCP on the next one."""
    start = first + (first % 2)
    return max(0, (last - start + 1) // 2)


@dataclass(frozen=True)
class Port:
    """A port (or a range of ports, when ``last`` is set) an application listens on, by
    name, and the role variable that sets it: the port, or [first, last] for a range,
    which the model overrides as 'FIRST:LAST'."""

    name: str
    protocol: str
    default: int
    variable: str
    last: int | None = None

    def span(self, override=None) -> tuple[int, int] | None:
        """(first, last) of the port or range, with the model's override if any."""
        if override is None:
            return (self.default, self.last or self.default)
        span = port_range(override)
        if span is None or (self.last is None and span[0] != span[1]):
            return None
        return span

    def value(self, override=None):
        """What the role variable gets."""
        first, last = self.span(override)
        return [first, last] if self.last is not None else first


@dataclass(frozen=True)
class ApplicationSpec:
    # the role that runs it (fully qualified)
    role: str
    ports: tuple[Port, ...]
    # share purpose -> the role variable that takes the share's mount path
    shares: tuple[tuple[str, str], ...] = ()
    # role variables the model may set under the entry's 'settings'
    settings: tuple[str, ...] = ()


KNOWN: dict[str, ApplicationSpec] = {
    "web": ApplicationSpec(
        role="lvs.cluster.web",
        ports=(
            Port("http", "tcp", 80, "web_http_port"),
            Port("https", "tcp", 443, "web_https_port"),
        ),
        shares=(("document_root", "web_document_root"),),
        settings=(
            "web_index_title",
            "web_manage_index",
            "web_listen_ipv6",
            "web_tls_dns_names",
            "web_ca_common_name",
            "web_ca_not_after",
            "web_tls_not_after",
        ),
    ),
    "media": ApplicationSpec(
        role="lvs.cluster.media",
        ports=(
            Port("rtsp", "tcp", 554, "media_rtsp_port"),
            # RTP and RTCP of every session, sent from and received on the VIP
            Port("rtp", "udp", 6970, "media_rtp_ports", last=6999),
        ),
        shares=(("media", "media_root"),),
        settings=("media_max_sessions",),
    ),
    "cache": ApplicationSpec(
        role="lvs.cluster.cache",
        ports=(
            # what the directors tunnel here, still addressed to an origin: intercepted
            Port("intercept", "tcp", 80, "cache_intercept_port"),
            # plain proxy port: the siblings' fetches and the directors' health checks
            Port("proxy", "tcp", 3128, "cache_proxy_port"),
            Port("icp", "udp", 3130, "cache_icp_port"),
        ),
        settings=("cache_mem_mb", "cache_dir_mb", "cache_max_object_kb"),
    ),
}

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


@dataclass(frozen=True)
class Port:
    """A port an application listens on, by name, and the role variable that sets it."""

    name: str
    protocol: str
    default: int
    variable: str


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
}

"""The model package as the tests call it: raw model, hosts and groups in."""

from ansible_collections.lvs.cluster.plugins.module_utils import lvs_model
from ansible_collections.lvs.cluster.plugins.module_utils.lvs_model import project
from ansible_collections.lvs.cluster.plugins.module_utils.lvs_model.schema import SCHEDULERS

ModelError = lvs_model.ModelError
validate = lvs_model.validate
plain = lvs_model.plain
model_from_vars = lvs_model.model_from_vars
disagreements = lvs_model.disagreements

__all__ = ["SCHEDULERS"]


def director_vars(m, h, g, host):
    return project.director_vars(lvs_model.load(m, h, g), host)


def realserver_vars(m, h, g, host):
    return project.realserver_vars(lvs_model.load(m, h, g), host)


def host_vars(m, h, g, host, controller=None):
    return project.host_vars(lvs_model.load(m, h, g), host, controller)


def plan(m, h, g):
    return lvs_model.build_plan(m, h, g)["hosts"]

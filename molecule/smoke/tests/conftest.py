"""The smoke scenario's tests read the collection's own lists (ipvs_model.SCHEDULERS)."""

from lvslab.testing import import_collection

import_collection()

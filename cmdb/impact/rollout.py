"""The rollout of a successor image: how many devices have moved to it, how many can (they
pass every check of the new image), and how many cannot and why.

"Can" and "cannot" are exactly the compatibility check of the devices still on the old image
against the new one (``cmdb.impact.compatibility.check_image_change``): pass, fail, and unknown
(a value the register does not hold, never counted as a pass). "Moved" are the devices now on
the new image whose history shows their RUNS_IMAGE link to the old one taken away.
"""

from __future__ import annotations

from collections import Counter
from typing import Any, Callable

from cmdb.graph import Graph, images as image_queries, impact as impact_queries
from cmdb.images.lineage import check_no_self_rollout, require_image
from cmdb.impact.compatibility import FAIL, PASS, UNKNOWN, check_image_change
from cmdb.i18n import _


def _field_name(prop: str) -> str:
    return prop


def _reasons(checks: list[dict[str, Any]],
             property_name: Callable[[str], str] = _field_name) -> list[tuple[str, str]]:
    """Why a device does not pass, one phrase per failing or unknown check, in the reader's
    language: (the phrase, the phrase without the device's own value, to count devices per
    reason). Properties are named by ``property_name``: field names for the API and the
    command line, their labels on the pages."""
    found = []
    for c in checks:
        if c["result"] not in (FAIL, UNKNOWN):
            continue
        if c["requirement"] == "supported_models":
            if c["result"] == UNKNOWN:
                text = _("model not recorded")
                found.append((text, text))
            else:
                found.append((_("model %(model)s not supported", model=c["actual"]),
                               _("model not supported")))
        elif c["result"] == UNKNOWN:
            text = _("%(property)s not recorded", property=property_name(c["property"]))
            found.append((text, text))
        else:
            found.append((_("%(property)s %(actual)s below %(required)s",
                            property=property_name(c["property"]), actual=c["actual"],
                            required=c["required"]),
                          _("%(property)s below %(required)s", property=property_name(c["property"]),
                            required=c["required"])))
    return found


def rollout(graph: Graph, old: str, new: str,
            property_name: Callable[[str], str] = _field_name) -> dict[str, Any]:
    old_image, new_image = require_image(graph, old, "image"), require_image(graph, new, "to")
    check_no_self_rollout(old_image.key, new_image.key)
    check = check_image_change(graph, old_image.key, new_image.key)
    on_new = impact_queries.devices_built_from(graph, new_image.key)
    unlinked = image_queries.image_unlinks(graph, [d["key"] for d in on_new], old_image.key)
    moved = [{"key": d["key"], "name": d["name"], "category": d["category"],
              "status": d["status"], **unlinked[d["key"]]}
             for d in on_new if d["key"] in unlinked]

    # Each device's reasons, worked out once: its phrases, and their kinds for the summary.
    why_not = {d["key"]: _reasons(d["checks"], property_name) for d in check["devices"]}

    def device(d: dict[str, Any]) -> dict[str, Any]:
        return {"key": d["key"], "name": d["name"], "category": d["category"],
                "status": d["status"], "model": d["model"], "applications": d["applications"],
                "verdict": d["verdict"], "reasons": [text for text, _kind in why_not[d["key"]]]}

    can = [device(d) for d in check["devices"] if d["verdict"] == PASS]
    cannot = [device(d) for d in check["devices"] if d["verdict"] == FAIL]
    unknown = [device(d) for d in check["devices"] if d["verdict"] == UNKNOWN]
    why = Counter(kind for d in check["devices"] if d["verdict"] in (FAIL, UNKNOWN)
                  for _text, kind in why_not[d["key"]])
    supersedes, _superseded_by = image_queries.direct_lineage(graph, new_image.key)
    return {
        "image": check["image"],
        "new_image": check["new_image"],
        "new_supersedes_old": old_image.key in supersedes,
        "requirements": check["requirements"],
        "moved": sorted(moved, key=lambda d: d["key"]),
        "can": can,
        "cannot": cannot,
        "unknown": unknown,
        "summary": {"moved": len(moved), "still_on_old": len(check["devices"]),
                    "can": len(can), "cannot": len(cannot), "unknown": len(unknown),
                    "reasons": dict(sorted(why.items(), key=lambda kv: (-kv[1], kv[0]))),
                    "applications_on_devices_that_cannot": sorted(
                        {a for d in cannot for a in d["applications"]})},
    }

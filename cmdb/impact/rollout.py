"""The rollout of a successor image: how many devices have moved to it, how many can (they
pass every check of the new image), and how many cannot and why.

"Can" and "cannot" are exactly the compatibility check of the devices still on the old image
against the new one (``cmdb.impact.compatibility.check_image_change``): pass, fail, and unknown
(a value the register does not hold, never counted as a pass). "Moved" are the devices now on
the new image whose history shows their RUNS_IMAGE link to the old one taken away.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from cmdb.graph import Graph, images as image_queries, impact as impact_queries
from cmdb.images.lineage import check_no_self_rollout, require_image
from cmdb.impact.compatibility import FAIL, PASS, UNKNOWN, check_image_change


def reasons(checks: list[dict[str, Any]]) -> list[str]:
    """Why a device does not pass, one phrase per failing or unknown check."""
    found = []
    for c in checks:
        if c["result"] not in (FAIL, UNKNOWN):
            continue
        if c["requirement"] == "supported_models":
            found.append("model not recorded" if c["result"] == UNKNOWN
                         else f"model {c['actual']} not supported")
        elif c["result"] == UNKNOWN:
            found.append(f"{c['property']} not recorded")
        else:
            found.append(f"{c['property']} {c['actual']} below {c['required']}")
    return found


def _reason_kind(reason: str) -> str:
    """The reason without the device's own value, to count devices per reason."""
    if reason.startswith("model ") and reason.endswith(" not supported"):
        return "model not supported"
    words = reason.split()
    if len(words) == 4 and words[2] == "below":
        return f"{words[0]} below {words[3]}"
    return reason


def rollout(graph: Graph, old: str, new: str) -> dict[str, Any]:
    old_image, new_image = require_image(graph, old, "image"), require_image(graph, new, "to")
    check_no_self_rollout(old_image.key, new_image.key)
    check = check_image_change(graph, old_image.key, new_image.key)
    on_new = impact_queries.devices_built_from(graph, new_image.key)
    unlinked = image_queries.image_unlinks(graph, [d["key"] for d in on_new], old_image.key)
    moved = [{"key": d["key"], "name": d["name"], "category": d["category"],
              "status": d["status"], **unlinked[d["key"]]}
             for d in on_new if d["key"] in unlinked]

    def device(d: dict[str, Any]) -> dict[str, Any]:
        return {"key": d["key"], "name": d["name"], "category": d["category"],
                "status": d["status"], "model": d["model"], "applications": d["applications"],
                "verdict": d["verdict"], "reasons": reasons(d["checks"])}

    can = [device(d) for d in check["devices"] if d["verdict"] == PASS]
    cannot = [device(d) for d in check["devices"] if d["verdict"] == FAIL]
    unknown = [device(d) for d in check["devices"] if d["verdict"] == UNKNOWN]
    why = Counter(_reason_kind(r) for d in cannot + unknown for r in d["reasons"])
    supersedes, _ = image_queries.direct_lineage(graph, new_image.key)
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

"""Standard images: lineage (which image supersedes which) and the devices left on a
superseded image or on one past its end of support. The rollout to a successor image is a
compatibility question and lives in ``cmdb.impact.rollout``."""

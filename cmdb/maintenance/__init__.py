"""Maintenance rounds: a checklist per device category, pass or fail per item per device."""

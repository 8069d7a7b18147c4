"""The twice-yearly inventory: campaigns, scans, reconciliation, corrections, reports."""

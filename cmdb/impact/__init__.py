"""Impact analysis and compatibility checks for change reviewers."""

"""Backup and restore of the whole register (file format and command line)."""

"""Spreadsheet import and export of the register: readers, column mappings, validation."""

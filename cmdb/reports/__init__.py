"""Periodic service reports for the customer: monthly, quarterly, yearly."""

"""Service records: contracts and warranties, repair orders and send-outs, spares and loaners.

Each module owns one flow and calls its ``cmdb.graph`` module (``contracts``, ``repairs``,
``spares``); CI changes go through the one writer (``cmdb.graph.writer.apply``) with history
in the same transaction.
"""

"""CMDB: a graph of hardware, software images, applications and locations."""

__version__ = "0.1.0"

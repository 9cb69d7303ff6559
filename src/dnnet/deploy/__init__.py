"""Deployment: exported cells, latency tables, and budget traces replayed against a trained network."""

from dnnet.deploy.export import FORMATS, export_subnet

__all__ = ["FORMATS", "export_subnet"]

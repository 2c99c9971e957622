"""Kumpul server: the programme API, private sync and announcements over HTTP."""

__version__ = "0.1.0"

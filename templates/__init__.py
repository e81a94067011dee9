"""Jinja2 templates for every outgoing mail: one .txt/.html pair per kind."""

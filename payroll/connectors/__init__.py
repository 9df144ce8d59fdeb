"""Annotation tool servers of a park (base.py: the plug-in interface)."""

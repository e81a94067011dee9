"""The coordinator's side: mailed commands and their CLI twins, status, export."""

"""Pure domain code: the checklist catalogue and the rules that read mail.

Nothing in this package performs network or database I/O, and nothing imports from ``bot`` or ``db``.
"""

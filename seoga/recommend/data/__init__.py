"""Interaction logs and what is read beside them: columns, side tables, splits, sessions."""

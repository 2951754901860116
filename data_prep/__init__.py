"""Turning raw face datasets into prepared TFRecords (DESIGN.md §6-§8)."""

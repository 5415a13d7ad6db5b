"""Synthetic multilingual stroke discharge reports with gold annotations."""

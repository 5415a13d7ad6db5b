"""Extraction evaluation: gold records, pure scoring, reports."""

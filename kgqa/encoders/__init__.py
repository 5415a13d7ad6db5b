"""Pretrained encoders kgqa can start from (converted locally; nothing is downloaded)."""

"""kgqa.stores"""

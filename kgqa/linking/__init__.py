"""kgqa.linking"""

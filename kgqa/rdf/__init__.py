"""kgqa.rdf"""

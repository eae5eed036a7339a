"""Indexing: chunking documents, embedding chunks and sentences, the BM25 and vector searches, and the stores that keep them."""

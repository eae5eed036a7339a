"""Retrieving: checking the question, and ranking passages by fused dense and BM25 scores."""

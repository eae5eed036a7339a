"""Answering: what a question asks for, the reader that scores candidate sentences, and the quotes that make the answer."""

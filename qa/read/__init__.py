"""Reading: finding source files, decoding them and extracting their text and structure (blocks, headings, pages)."""

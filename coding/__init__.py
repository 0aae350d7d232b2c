"""Plain-Python qualitative analysis: codebook, tagging, agreement, comments. No Flask here."""

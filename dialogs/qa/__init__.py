"""Question answering for DX promoters: knowledge base files and the embedded Japanese search."""

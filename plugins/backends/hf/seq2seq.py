"""seq2seq (to be written)."""

"""Services that plugins share, over the core's contracts: audio decoding, structured JSON with
retries, label scoring, sentence splitting and chunking, the language table, transcripts.

A module here imports the core (``taskdeck``) and other helpers, never a plugin.
"""

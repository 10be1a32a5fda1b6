"""Transcripts: the conversation behind a case, read from Rasa's SQL tracker store (read-only)."""

"""Stores Rasa loads from its endpoints file: the conversation (tracker) store, made safe for database faults."""

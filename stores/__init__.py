"""Rasa's extensions loaded from its endpoints file: the conversation (tracker) store, made safe for database faults
and quick between turns, and the lock store its workers share. Importing the package changes nothing in Rasa: the
changes to Rasa's own code are installed when the server starts (serving/patches.py)."""

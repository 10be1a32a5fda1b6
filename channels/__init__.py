"""Input and output connectors that Rasa loads from bot/credentials.yml."""

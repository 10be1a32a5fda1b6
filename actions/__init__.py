"""The rasa-sdk action server: form validation, starting and submitting reports.

It reaches the backend only over HTTP, through `actions.backend_client`.
"""

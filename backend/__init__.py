"""The 311 intake backend: the City's system of record for cases created by the chatbot.

It stores cases, issues reference numbers and shows staff the conversation behind each case. It never imports
Rasa: the action server reaches it over HTTP only.
"""

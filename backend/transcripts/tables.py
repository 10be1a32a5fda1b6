"""Rasa's tracker store table, declared for reading only.

It lives on its own `MetaData`, not on the models' `Base`, so that neither the backend nor its migrations ever
create or change it: Rasa's SQL tracker store owns it.
"""

from sqlalchemy import Column, Float, Integer, MetaData, String, Table, Text

tracker_metadata = MetaData()

events = Table(
    "events",
    tracker_metadata,
    Column("id", Integer, primary_key=True),
    Column("sender_id", String(255)),
    Column("type_name", String(255)),
    Column("timestamp", Float),
    Column("intent_name", String(255)),
    Column("action_name", String(255)),
    Column("data", Text),
)

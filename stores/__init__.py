"""Rasa's extensions loaded from its endpoints file: the conversation (tracker) store, made safe for database faults
and quick between turns, and the lock store its workers share.

Importing the package also makes Rasa check the action server's answers with a validator built once
(`stores.action_results`), since Rasa imports this package in every server that talks to an action server.
"""

from stores.action_results import install as _install_action_result_check

_install_action_result_check()

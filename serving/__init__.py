"""How Rasa's HTTP server runs here: its workers each listen on the port (reuse_port), and `python -m serving`
starts `rasa run` with the API token taken from the environment instead of the command line."""

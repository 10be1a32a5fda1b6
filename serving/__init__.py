"""How Rasa's HTTP server runs here: `python -m serving` is `rasa run` with the API token taken from the environment
and the project's patches to Rasa and Sanic installed at start, all from serving/patches.py (a guard that is always
on, and speed patches that INTAKE_STOCK_RASA=1 leaves out). Importing a module of this package installs nothing."""

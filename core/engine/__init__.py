"""The engine: what runs tasks, behind the contract plugins import (``taskdeck``).

``plugin_manager`` finds and checks the plugins; ``config`` turns their Params into Hydra's
config; ``session_context`` loads models for a run; ``model_cache`` keeps them for servers;
``runner`` runs one task (``batch`` a file of inputs, ``eval_plan`` scoring it); ``hub_dataset``
reads a Hub dataset as rows; ``plugin_template`` writes a new plugin package. The engine imports
the contract; the contract imports nothing from here (``tests/test_layers.py``).
"""

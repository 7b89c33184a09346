"""Capability code of the transformers backend, one module per capability.

Each function takes the loaded ``TransformersBackend`` (``backend.hf_model``,
``backend.tokenizer``, ``backend.device``, ``backend.pipeline(task)``, ``backend.params``)
as its first argument. Imports of torch/transformers happen inside the functions.
"""

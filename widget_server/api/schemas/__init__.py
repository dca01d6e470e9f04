"""One pydantic model per shape of the management API, one module per resource.

Each model is the single description of its shape: requests are validated
against it (``api/endpoint.py``), answers are serialised through it, and the
OpenAPI document (``api/openapi.py``) is generated from it. ``common`` holds
the field types they share and the base classes that set the rules: request
bodies are strict and refuse unknown fields, query strings refuse unknown
parameters, answers are read from the stored rows.
"""

"""The operations that change data, one module per resource, shared by the CLI, API and admin."""

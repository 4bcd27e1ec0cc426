"""The training catalogue: entry model (JSON Schema), storage, importers and exporters."""

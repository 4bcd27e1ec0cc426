"""fairio-tools: make bioimage data FAIR, from Galaxy and from the shell."""

__version__ = "0.2.0"

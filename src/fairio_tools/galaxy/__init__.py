"""A real Galaxy for our tools: environment, configuration, server and tests."""

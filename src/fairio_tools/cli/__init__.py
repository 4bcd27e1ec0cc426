"""The ``fairio`` command line: thin click commands over the library."""

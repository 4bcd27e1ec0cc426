"""Exit codes shared by every ``fairio`` subcommand."""

OK = 0
"""The command did what was asked (a validator found the input valid)."""

INVALID = 1
"""A validator checked the input and found it invalid."""

USAGE_OR_INPUT = 2
"""Bad command line or unreadable input: the message names the file and the problem."""

INTERNAL = 3
"""A bug in fairio-tools: run again with --debug and report the traceback."""

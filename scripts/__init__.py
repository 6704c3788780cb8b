"""The command line: ``heattwin <command>``."""

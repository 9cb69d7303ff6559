"""Small helpers every package uses: files written atomically, JSON read strictly, provenance and the running command,
amounts as people type them, the device a command runs on, progress bars, the installed version.

Importing this package imports nothing (the command line reads `running_command` and `version` without torch)."""

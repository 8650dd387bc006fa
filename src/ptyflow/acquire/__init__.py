"""Live acquisition: DECTRIS stream decoders, the receive loop, scan assembly, the daemon.

Reads detector frames from ZeroMQ and hands them to ``ptyflow.compress`` and the dataset
store writer (``ptyflow.dataset``). Not implemented yet: see the project's issues.
"""

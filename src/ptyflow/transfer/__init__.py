"""Moving stores to the group server: rsync over ssh, a durable queue, checksum verification
against the store manifest (``ptyflow.provenance``). Not implemented yet: see the issues.
"""

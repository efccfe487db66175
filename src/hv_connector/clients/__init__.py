"""HTTP clients for the remote systems hv-connector talks to (one module per remote)."""

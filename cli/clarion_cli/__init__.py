"""The `clarion` command: the Docker-free local stack, invoke, keys. Not deployed."""

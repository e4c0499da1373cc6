"""The `pulse` command: local stack, migrations, worker, replay, demo."""

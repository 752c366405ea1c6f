"""``python -m policy_dsl`` runs the ``policy`` command."""

from policy_dsl.cli import policy

if __name__ == "__main__":
    policy()

"""No argon2 hash is computed when a process starts (issue 8).

argon2 is memory-hard on purpose (64 MiB a hash): computed at import it
doubled the peak memory of every worker and every ``flask`` command.
"""

import subprocess
import sys
import textwrap


def test_starting_the_app_and_its_cli_computes_no_password_hash(tmp_path):
    script = textwrap.dedent(f"""
        import argon2, argon2.low_level

        def refuse(*args, **kwargs):
            raise SystemExit("an argon2 hash was computed at start-up")

        argon2.PasswordHasher.hash = refuse
        argon2.low_level.hash_secret = refuse
        argon2.low_level.hash_secret_raw = refuse

        from feedback import create_app

        app = create_app({{"SQLALCHEMY_DATABASE_URI": "sqlite:///{tmp_path}/start.sqlite",
                          "SECRET_KEY": "k" * 40}})
        runner = app.test_cli_runner()
        result = runner.invoke(args=["--help"])
        assert result.exit_code == 0, result.output
        print("started")
    """)
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "started" in done.stdout

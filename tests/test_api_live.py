"""schemathesis against the LIVE API: a real HTTP server, every check, a token, zero failures.

``tests/test_api_schema.py`` fuzzes the API in-process through WSGI. This test runs the
schemathesis command line — its whole default run: examples, coverage, fuzzing and stateful
phases, ``--checks all`` — over real HTTP against ``live_server`` (Django's threaded server
on a port of 127.0.0.1, on the test database with the demo data) with a supervisor's API
token, as an API client would. The only operation left out is ``DELETE /auth/token/``, which
would revoke the token the rest of the run uses (its revocation is tested in
``accounts/tests/test_api.py``, and in-process by ``test_api_schema.py``); generated cursors
are dropped (``tests/schemathesis_hooks.py``: a cursor is signed, a made-up one is a 400).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from config.api.testing import api_token

ST = Path(sys.executable).with_name("st")


@pytest.mark.slow
@pytest.mark.skipif(not ST.exists(), reason="the schemathesis command is not installed")
def test_schemathesis_finds_nothing_against_the_live_api(live_server, demo, settings, tmp_path):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": dict.fromkeys(
            settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"], "1000000/minute"
        ),
    }
    token = api_token(demo["supervisor"])
    command = [
        str(ST),
        "run",
        f"{live_server.url}/api/v1/schema/",
        "--checks",
        "all",
        "--header",
        f"Authorization: Bearer {token}",
        "--exclude-method",
        "DELETE",
        "--max-examples",
        os.environ.get("LIVE_FUZZ_EXAMPLES", "8"),
        "--seed",
        "20261202",
        "--workers",
        "1",
        "--generation-database",
        "none",
        "--request-timeout",
        "30",
        "--no-color",
        "--report",
        "junit",
        "--report-dir",
        str(tmp_path),
    ]
    env = {
        **os.environ,
        "SCHEMATHESIS_HOOKS": "tests.schemathesis_hooks",
        "PYTHONPATH": str(settings.BASE_DIR),
    }
    result = subprocess.run(
        command, capture_output=True, text=True, timeout=900, check=False, cwd=tmp_path, env=env
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-20000:]
    assert "No issues found" in output or " passed" in output, output[-5000:]

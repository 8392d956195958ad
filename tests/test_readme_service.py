"""The README's service examples, executed: `voc serve` answers every curl line as written
(on a free loopback port instead of 8000)."""

import json
import os
import re
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytest.importorskip("uvicorn")
REPO = Path(__file__).resolve().parents[1]
README = (REPO / "README.md").read_text(encoding="utf-8")
pytestmark = [pytest.mark.slow, pytest.mark.skipif(shutil.which("curl") is None, reason="needs curl")]


def curl_blocks():
    blocks = re.findall(r"```bash\n(.*?)```", README, flags=re.S)
    return [b for b in blocks if "curl" in b and "localhost:8000" in b]


def commands(block):
    """Each shell command of a block (backslash continuations joined), curl lines only."""
    joined = re.sub(r"\\\n\s*", " ", block)
    return [line.split("  #")[0].strip() for line in joined.splitlines() if line.strip().startswith("curl")]


def serve(tmp_path, keys):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {**os.environ, "VOC_STORE_PATH": str(tmp_path / "readme.duckdb"), "VOC_JOBS_DIR": str(tmp_path / "jobs"),
           "VOC_API_KEYS": keys}
    p = subprocess.Popen([sys.executable, "-m", "voc.cli", "serve", "--host", "127.0.0.1", "--port", str(port),
                          "--log-level", "warning"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.time() + 60
    while time.time() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                break
        except OSError:
            time.sleep(0.2)
    return p, port


@pytest.mark.parametrize("which", [0, 1])
def test_readme_curl_examples_answer(tmp_path, which):
    block = curl_blocks()[which]
    keys = "change-me" if "change-me" in block else ""
    p, port = serve(tmp_path, keys)
    try:
        for cmd in commands(block):
            cmd = cmd.replace("localhost:8000", f"127.0.0.1:{port}")
            for _ in range(50):  # the model loads before /readyz answers
                out = subprocess.run(["bash", "-c", cmd + " -w '\\n%{http_code}'"], capture_output=True, text=True,
                                     timeout=60)
                body, _, status = out.stdout.rpartition("\n")
                if status != "000":
                    break
                time.sleep(0.3)
            assert status == "200", (cmd, status, body[:500])
            data = json.loads(body)
            assert "error" not in data or data["error"] is None, (cmd, data)
    finally:
        p.terminate()
        p.wait(10)

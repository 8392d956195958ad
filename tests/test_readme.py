"""The README's examples run, and CI runs exactly the README's test command."""

import re
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
README = (REPO / "README.md").read_text(encoding="utf-8")


def blocks(lang):
    return re.findall(rf"```{lang}\n(.*?)```", README, flags=re.S)


@pytest.mark.slow
def test_python_examples_run():
    for code in blocks("python"):
        exec(compile(code, "README.md", "exec"), {})


def test_ci_runs_the_readme_test_command():
    test_cmd = [b.strip() for b in blocks("bash") if "pytest" in b][0]
    assert test_cmd in (REPO / ".ci/run").read_text(encoding="utf-8")


@pytest.mark.slow
def test_cli_on_bundled_sample():
    out = subprocess.run([sys.executable, "-m", "voc.cli", "analyze", "--input", "data/samples/posts.jsonl"],
                         cwd=REPO, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    lines = out.stdout.strip().splitlines()
    assert len(lines) == len((REPO / "data/samples/posts.jsonl").read_text(encoding="utf-8").splitlines())


SHARED = REPO.parent / "shared" / "data"


@pytest.mark.slow
@pytest.mark.shared_data
@pytest.mark.skipif(not SHARED.exists(), reason="needs ../shared/data")
@pytest.mark.parametrize("example", ["airline", "car"])
def test_bring_your_own_taxonomy_examples_run(example, tmp_path):
    """The README's `voc train` examples, command by command, in a scratch folder."""
    block = next(b for b in blocks("bash") if f"export_labelled {example}" in b)
    for line in block.strip().splitlines():
        cmd = line.split("#")[0].strip()
        cmd = cmd.replace(f"/tmp/voc-{example}", str(tmp_path / "data")).replace(f"models/{example}",
                                                                                  str(tmp_path / "model"))
        args = cmd.split()
        if args[0] == "python":
            args[0] = sys.executable
        elif args[0] == "voc":
            args = [sys.executable, "-m", "voc.cli"] + args[1:]
            if args[3] == "eval" and "--output" not in args:  # its report goes to the scratch folder
                args += ["--output", str(tmp_path / "report")]
        out = subprocess.run(args, cwd=REPO, capture_output=True, text=True, timeout=300)
        assert out.returncode == 0, (cmd, out.stderr[-2000:])
    assert "## Aspect detection" in out.stdout


@pytest.mark.slow
def test_demo_dump_score_rollup_report(tmp_path):
    """The README's demo block, command by command: score the bundled demo dump, roll it up,
    write the report; and the first set-up command's roll-up names the key experience."""
    block = next(b for b in blocks("bash") if "demo_posts.jsonl" in b and "voc report" in b)
    outputs = []
    for line in block.strip().splitlines():
        args = line.split("#")[0].replace("demo.duckdb", str(tmp_path / "demo.duckdb")).replace(
            "demo-report.html", str(tmp_path / "demo-report.html")).split()
        assert args[0] == "voc"
        out = subprocess.run([sys.executable, "-m", "voc.cli"] + args[1:], cwd=REPO, capture_output=True, text=True,
                             timeout=300)
        assert out.returncode == 0, (line, out.stderr[-2000:])
        outputs.append(out)
    summary = __import__("json").loads(outputs[0].stdout)
    assert summary["read"] == summary["scored"] == 3000
    assert "delivery" in outputs[1].stdout  # the demo's week-9 delivery spike raises an alert
    html = (tmp_path / "demo-report.html").read_text(encoding="utf-8")
    assert "<mark" in html and 'src="http' not in html
    first = next(b for b in blocks("bash") if "pip install -e . && voc score" in b)
    rollup = first.split("&& voc rollup")[1].split()
    out = subprocess.run([sys.executable, "-m", "voc.cli", "rollup"] + [a.replace("demo.duckdb", str(
        tmp_path / "demo.duckdb")) for a in rollup], cwd=REPO, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0 and "Key experience: service" in out.stdout


@pytest.mark.slow
def test_output_record_example_is_what_the_model_says(nlp):
    """The README's sample record is valid JSON, is the shipped model's record of sample post
    wb-001, and every evidence span is text[start:end] of that post."""
    import json

    [block] = [b for b in blocks("json") if '"wb-001"' in b]
    record = json.loads(block)
    sample = next(json.loads(line) for line in (REPO / "data/samples/posts.jsonl").read_text(
        encoding="utf-8").splitlines() if '"wb-001"' in line)
    text = sample["text"]
    for kind in ("touchpoints", "themes", "signals"):
        for item in record[kind]:
            for span in item["evidence"]:
                assert text[span["start"]:span["end"]] == span["text"], span
    assert nlp(text, id="wb-001").to_dict() == record

"""The Dockerfile (Hugging Face Docker Space) and the README front matter that goes with it.

The first test reads the files. The second (slow) one runs the Dockerfile's pip
install steps for real in a fresh virtual environment, then starts the app from
that environment and asks it for its health.
"""

from __future__ import annotations

import os
import re
import shlex
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
import venv
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOCKERFILE = ROOT / "Dockerfile"
README = ROOT / "README.md"
PORT = "8501"

NETWORK_ERRORS = (
    "NewConnectionError",
    "Failed to establish a new connection",
    "Temporary failure in name resolution",
    "Name or service not known",
    "Network is unreachable",
    "No route to host",
    "Connection refused",
    "ConnectTimeoutError",
    "Read timed out",
    "ProxyError",
)


from dockerfile_util import (  # noqa: E402  (the parsers live beside this file)
    env_pairs,
    exec_form,
    front_matter,
    instructions_of,
    option_value,
    parse_dockerfile,
    replace_option,
    requirements_install_commands,
)


@pytest.fixture(scope="module")
def dockerfile() -> list[tuple[str, str]]:
    assert DOCKERFILE.is_file(), "Dockerfile missing at the repository root"
    return parse_dockerfile(DOCKERFILE.read_text())


def test_dockerfile_is_a_huggingface_docker_space(dockerfile):
    # Base image: python 3.11.
    froms = instructions_of(dockerfile, "FROM")
    assert froms, "no FROM"
    image = froms[-1].split()[0]
    assert re.fullmatch(r"(docker\.io/)?(library/)?python:3\.11([.\-][\w.\-]*)?", image), image

    # Runs as uid 1000 (a Hugging Face requirement).
    users = instructions_of(dockerfile, "USER")
    assert users, "no USER: the container would run as root"
    user = users[-1].split(":")[0].strip()
    if user != "1000":
        created = [
            args
            for args in instructions_of(dockerfile, "RUN")
            if re.search(r"(useradd|adduser)\b", args)
            and re.search(r"(-u|--uid)[ =]1000\b", args)
            and re.search(rf"\b{re.escape(user)}\b", args)
        ]
        assert created, f"USER {user} is not created with uid 1000"

    # One torch/OpenMP thread per process.
    env: dict[str, str] = {}
    for args in instructions_of(dockerfile, "ENV"):
        env.update(env_pairs(args))
    assert env.get("OMP_NUM_THREADS") == "1", env

    # Health check on Streamlit's health endpoint.
    checks = instructions_of(dockerfile, "HEALTHCHECK")
    assert checks, "no HEALTHCHECK"
    assert "/_stcore/health" in checks[-1] and PORT in checks[-1], checks[-1]

    # requirements.txt copied on its own, then installed with the README's command.
    installs = requirements_install_commands(dockerfile)
    assert installs, "no RUN pip install ... -r requirements.txt"
    assert any("pip install --no-cache-dir -r requirements.txt" in cmd for cmd in installs), installs
    first_install = next(i for i, (kw, args) in enumerate(dockerfile) if args == installs[0] and kw == "RUN")
    copies_before = [args for kw, args in dockerfile[:first_install] if kw in ("COPY", "ADD")]
    assert any("requirements.txt" in args.split() for args in copies_before), (
        "requirements.txt must be copied before it is installed"
    )

    # Port and command.
    assert any(PORT in args.split() for args in instructions_of(dockerfile, "EXPOSE")), "EXPOSE 8501"
    cmds = instructions_of(dockerfile, "CMD")
    assert cmds, "no CMD"
    argv = exec_form(cmds[-1])
    assert argv[:3] == ["streamlit", "run", "app.py"], argv
    assert option_value(argv, "--server.port") == PORT, argv
    assert option_value(argv, "--server.address") == "0.0.0.0", argv


def test_readme_front_matter_declares_a_docker_space():
    if not README.is_file():
        pytest.skip("README.md does not exist yet")
    meta = front_matter(README.read_text())
    assert meta, "README.md must start with a --- front matter block (Hugging Face Space metadata)"
    assert meta.get("sdk") == "docker", meta
    assert meta.get("app_port") == PORT, meta


def test_parsers_on_a_small_dockerfile():
    parsed = parse_dockerfile(
        "# comment\nFROM python:3.11-slim\nENV A=1 \\\n    B=two\nRUN echo a && \\\n"
        '    # inner comment\n    echo b\nCMD ["x", "--p=1"]\n'
    )
    assert parsed == [
        ("FROM", "python:3.11-slim"),
        ("ENV", "A=1 B=two"),
        ("RUN", "echo a && echo b"),
        ("CMD", '["x", "--p=1"]'),
    ]
    assert env_pairs("A=1 B=two") == {"A": "1", "B": "two"}
    assert env_pairs("A 1") == {"A": "1"}
    assert option_value(["a", "--p", "3"], "--p") == "3"
    assert replace_option(["a", "--p", "3", "--q=4"], "--p", "5") == ["a", "--q=4", "--p=5"]
    assert front_matter("---\ntitle: X\nsdk: docker\napp_port: 8501\n---\n# X\n") == {
        "title": "X",
        "sdk": "docker",
        "app_port": "8501",
    }
    assert front_matter("# no front matter\n") == {}


# --------------------------------------------------------------------------- the real install


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def arg_defaults(parsed: list[tuple[str, str]]) -> dict[str, str]:
    """The Dockerfile's ARG defaults, as the RUN steps see them in a plain `docker build`."""
    defaults: dict[str, str] = {}
    for args in instructions_of(parsed, "ARG"):
        name, _, value = args.partition("=")
        defaults[name.strip()] = shlex.split(value)[0] if value.strip() else ""
    return defaults


def stop_process_group(proc: subprocess.Popen) -> None:
    """Stop a server started with start_new_session=True, and any worker processes it started."""
    try:
        os.killpg(proc.pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    try:
        proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        pass
    time.sleep(0.5)
    try:
        os.killpg(proc.pid, signal.SIGKILL)  # whatever is left of the group
    except ProcessLookupError:
        pass
    proc.wait(timeout=15)


@pytest.mark.slow
def test_dockerfile_install_steps_give_a_working_app(dockerfile, tmp_path):
    pip_steps = [args for kw, args in dockerfile if kw == "RUN" and "pip install" in args]
    assert requirements_install_commands(dockerfile), "no RUN pip install ... -r requirements.txt"

    env_dir = tmp_path / "venv"
    venv.create(env_dir, with_pip=True)
    bindir = env_dir / "bin"
    python = bindir / "python"
    env = {
        **os.environ,
        **arg_defaults(dockerfile),
        "PATH": f"{bindir}{os.pathsep}{os.environ.get('PATH', '')}",
        "VIRTUAL_ENV": str(env_dir),
        "OMP_NUM_THREADS": "1",
        "PIP_DISABLE_PIP_VERSION_CHECK": "1",
    }
    env.pop("PYTHONPATH", None)
    env.pop("PYTHONHOME", None)

    # Can pip reach an index at all? Fetch one small pinned requirement.
    pins = dict(
        re.match(r"^([A-Za-z0-9_.\-]+)==(\S+)", line).groups()
        for line in (ROOT / "requirements.txt").read_text().splitlines()
        if re.match(r"^[A-Za-z0-9_.\-]+==", line)
    )
    probe_pkg = "altair" if "altair" in pins else next(iter(pins))
    probe = subprocess.run(
        [
            str(python),
            "-m",
            "pip",
            "download",
            "--no-deps",
            "--no-cache-dir",
            "-d",
            str(tmp_path / "probe"),
            f"{probe_pkg}=={pins[probe_pkg]}",
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    if probe.returncode != 0 and any(marker in probe.stdout + probe.stderr for marker in NETWORK_ERRORS):
        pytest.skip(f"pip cannot reach any package index:\n{probe.stderr[-1500:]}")

    # The Dockerfile's RUN pip install steps, as written, with the venv's pip first on PATH.
    for step in pip_steps:
        result = subprocess.run(
            ["/bin/sh", "-c", step], cwd=ROOT, env=env, capture_output=True, text=True, timeout=1800
        )
        assert result.returncode == 0, (
            f"RUN {step}\nfailed:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
        )

    imports = subprocess.run(
        [
            str(python),
            "-c",
            "import torch, streamlit, ot, wgan_core; print(torch.__version__, streamlit.__version__)",
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert imports.returncode == 0, imports.stderr[-3000:]

    # Start the app the way the Dockerfile's CMD does, on a free local port.
    argv = exec_form(instructions_of(dockerfile, "CMD")[-1])
    assert argv[0] == "streamlit", argv
    port = free_port()
    argv = replace_option(argv, "--server.port", str(port))
    argv = replace_option(argv, "--server.address", "127.0.0.1")
    argv = [str(bindir / "streamlit"), *argv[1:], "--server.headless=true"]
    log = (tmp_path / "streamlit.log").open("w+")
    proc = subprocess.Popen(
        argv, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
    )
    url = f"http://127.0.0.1:{port}/_stcore/health"
    body = None
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and proc.poll() is None:
            try:
                with urllib.request.urlopen(url, timeout=2) as response:
                    body = response.read().decode().strip()
                if body == "ok":
                    break
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                pass
            time.sleep(0.5)
    finally:
        stop_process_group(proc)
        log.seek(0)
        output = log.read()
        log.close()
    assert body == "ok", (
        f"{url} answered {body!r} (exit code {proc.returncode}); server output:\n{output[-3000:]}"
    )

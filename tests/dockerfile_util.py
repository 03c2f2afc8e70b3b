"""Reading a Dockerfile and the README's front matter, for tests/test_dockerfile.py."""
from __future__ import annotations

import json
import re
import shlex
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DOCKERFILE = ROOT / "Dockerfile"
README = ROOT / "README.md"


# --------------------------------------------------------------------------- parsing


def parse_dockerfile(text: str) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) pairs, with comments dropped and continuation lines joined."""
    instructions: list[tuple[str, str]] = []
    current = ""
    for raw in text.splitlines():
        line = raw.strip()
        if not current and (not line or line.startswith("#")):
            continue
        if current and line.startswith("#"):
            continue  # a comment inside a continued instruction
        if line.endswith("\\"):
            current += line[:-1].strip() + " "
            continue
        current += line
        if current.strip():
            keyword, _, args = current.strip().partition(" ")
            instructions.append((keyword.upper(), args.strip()))
        current = ""
    if current.strip():
        keyword, _, args = current.strip().partition(" ")
        instructions.append((keyword.upper(), args.strip()))
    return instructions


def exec_form(args: str) -> list[str]:
    """The argument list of a CMD/ENTRYPOINT in exec (JSON) or shell form."""
    args = args.strip()
    if args.startswith("["):
        return json.loads(args)
    return shlex.split(args)


def env_pairs(args: str) -> dict[str, str]:
    """The variables that one ENV instruction sets (key=value form, or the legacy `ENV key value`)."""
    tokens = shlex.split(args)
    if tokens and "=" not in tokens[0]:
        return {tokens[0]: " ".join(tokens[1:])}
    return dict(token.split("=", 1) for token in tokens)


def option_value(argv: list[str], name: str) -> str | None:
    """The value of --name=value or --name value in an argument list."""
    for i, token in enumerate(argv):
        if token.startswith(name + "="):
            return token.split("=", 1)[1]
        if token == name and i + 1 < len(argv):
            return argv[i + 1]
    return None


def replace_option(argv: list[str], name: str, value: str) -> list[str]:
    out: list[str] = []
    skip = False
    for i, token in enumerate(argv):
        if skip:
            skip = False
            continue
        if token.startswith(name + "="):
            continue
        if token == name and i + 1 < len(argv):
            skip = True
            continue
        out.append(token)
    return [*out, f"{name}={value}"]


def front_matter(text: str) -> dict[str, str]:
    """The `key: value` lines of a README's leading YAML front matter (flat keys only)."""
    lines = text.splitlines()
    if not lines or lines[0].strip() != "---":
        return {}
    result: dict[str, str] = {}
    for line in lines[1:]:
        if line.strip() == "---":
            return result
        match = re.match(r"^([A-Za-z_][\w-]*)\s*:\s*(.*?)\s*$", line)
        if match:
            result[match.group(1)] = match.group(2).strip("'\"")
    return {}  # no closing ---: not front matter


def instructions_of(parsed: list[tuple[str, str]], keyword: str) -> list[str]:
    return [args for kw, args in parsed if kw == keyword]


def requirements_install_commands(parsed: list[tuple[str, str]]) -> list[str]:
    return [
        args for kw, args in parsed if kw == "RUN" and re.search(r"pip install .*-r requirements\.txt", args)
    ]


# --------------------------------------------------------------------------- static checks

"""Every option of every console script, tried with bad values: a wrong type, a bad choice, and each bad value of its rule
in `finetune_course.core.KNOBS` (negative, zero where it can't be, a missing or unwritable path, a folder that is no model).

The options are found from each command's parser (`CourseParser.made`), so an option added later is tried without a new
test; a numeric option with no rule fails `test_every_numeric_option_has_a_rule`. Cases run in-process (argv lists,
capsys, tmp_path as the working directory); a few subprocesses prove the installed console scripts behave the same."""
import os, shutil, subprocess, sys
from pathlib import Path
import pytest

from finetune_course.core import CourseParser, chat_cli
from finetune_course.data import prepare_cli
from finetune_course.train import walkthrough_cli
from finetune_course.gguf_export import export_cli, serve_cli
from finetune_course.classify import imdb_cli

COMMANDS = {"ftc-chat": chat_cli, "ftc-prepare": prepare_cli, "ftc-walkthrough": walkthrough_cli,
            "ftc-export": export_cli, "ftc-serve": serve_cli, "ftc-imdb": imdb_cli}

def parser_of(cli) -> CourseParser:
    "The parser a console script builds (it exits on --help, after building it)"
    n = len(CourseParser.made)
    with pytest.raises(SystemExit): cli(["--help"])
    assert len(CourseParser.made) > n, f"{cli.__name__} does not build a CourseParser"
    return CourseParser.made[-1]

def test_settings_ini_lists_these_commands():
    ini = (Path(__file__).parent.parent/"settings.ini").read_text()
    line = next(l for l in ini.splitlines() if l.startswith("console_scripts"))
    assert sorted(e.split("=")[1] for e in line.split()[2:]) == sorted(f"{f.__module__}:{f.__name__}" for f in COMMANDS.values())

def _paths(tmp:Path) -> dict:
    "What the rules' path placeholders stand for"
    (tmp/"a-file").write_text("x"); (tmp/"not-a-model").mkdir(exist_ok=True); (tmp/"not-a-model"/"notes.txt").write_text("x")
    return {"<missing>": str(tmp/"missing"/"f.pdf"), "<a-dir>": str(tmp/"not-a-model"), "<a-file>": str(tmp/"a-file"),
            "<not-a-dir>": str(tmp/"a-file"/"run"), "<not-a-model>": str(tmp/"not-a-model")}

def _base(name:str, tmp:Path) -> dict:
    "Good values for the positional arguments a command needs (dest -> value)"
    (tmp/"m.gguf").write_bytes(b"GGUF")
    return {"ftc-export": {"model_dir": "tiny-qwen3", "out": str(tmp/"o.gguf")}, "ftc-serve": {"gguf": str(tmp/"m.gguf")},
            "ftc-prepare": {"pdf": str(tmp/"a-file")}}.get(name, {})

def _argv(p:CourseParser, base:dict, act, value:str) -> list:
    "argv with each positional at its good value, `act` at `value`, and required options filled in"
    argv, opts = [], []
    for a in p._actions:
        if a.option_strings:
            if a is act: opts += [a.option_strings[-1], value]
            elif a.required: opts += [a.option_strings[-1], base[a.dest]]
        elif a.dest != "help": argv.append(value if a is act else base.get(a.dest, "hi"))
    return argv + opts

def _cases(tmp:Path):
    paths = _paths(tmp)
    for name, cli in COMMANDS.items():
        p = parser_of(cli)
        for act in p._actions:
            if act.nargs == 0 or act.dest == "help": continue          # flags take no value
            bad = []
            if act.type in (int, float): bad.append("abc")
            if act.choices: bad.append("no-such-choice")
            rule = p.rules.get(act.dest)
            if rule: bad += [paths.get(str(b), str(b)) for b in rule.bad]
            for b in bad: yield name, cli, p, act, b

def _snapshot(tmp:Path) -> set: return {str(q.relative_to(tmp)) for q in tmp.rglob("*")}

def test_every_option_refuses_bad_values(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    n, seen, bases = 0, {}, {name: _base(name, tmp_path) for name in COMMANDS}
    for name, cli, p, act, bad in list(_cases(tmp_path)):
        before = _snapshot(tmp_path)
        with pytest.raises(SystemExit) as e: cli(_argv(p, bases[name], act, bad))
        err = capsys.readouterr().err.strip()
        label = act.option_strings[-1] if act.option_strings else act.dest
        assert e.value.code in (1, 2), (name, label, bad, e.value.code)
        assert err and "\n" not in err and "Traceback" not in err, (name, label, bad, err)
        assert any(s in err for s in act.option_strings or [act.dest, act.metavar or act.dest]), (name, label, bad, err)
        assert _snapshot(tmp_path) == before, (name, label, bad, "left files behind")
        n += 1; seen.setdefault(name, set()).add(label)
    assert set(seen) == set(COMMANDS) and n > 50, (n, seen)

def test_every_numeric_option_has_a_rule():
    for name, cli in COMMANDS.items():
        p = parser_of(cli)
        missing = [a.option_strings[-1] for a in p._actions if a.type in (int, float) and a.dest not in p.rules]
        assert not missing, f"{name}: add a rule for {missing} to core's KNOBS (or the parser's rules)"

def _tool(name): return shutil.which(name) or pytest.skip(f"{name} is not installed")

def test_console_scripts_refuse_before_working(tmp_path):
    "The real commands: nothing loaded, nothing written, one line"
    env = os.environ | {"HF_HUB_OFFLINE": "1"}
    r = subprocess.run([_tool("ftc-walkthrough"), "--epochs", "-1", "--out", "r2"], cwd=tmp_path, capture_output=True, text=True, env=env, timeout=300)
    assert r.returncode == 2 and "--epochs -1.0 can't work" in r.stderr and r.stderr.strip().count("\n") == 0, r.stderr
    assert not (tmp_path/"r2").exists() and r.stdout == ""
    (tmp_path/"folder").mkdir(); (tmp_path/"folder"/"readme.txt").write_text("not a model")
    r = subprocess.run([_tool("ftc-chat"), "--model", "folder", "hi"], cwd=tmp_path, capture_output=True, text=True, env=env, timeout=300)
    assert r.returncode == 2 and "config.json" in r.stderr and r.stderr.strip().count("\n") == 0, r.stderr
    (tmp_path/"cut.gguf").write_bytes(b"GGUF" + b"\0" * 60)
    r = subprocess.run([_tool("ftc-serve"), "cut.gguf"], cwd=tmp_path, capture_output=True, text=True, env=env, timeout=300)
    assert r.returncode == 1 and "truncated or damaged" in r.stderr and "serving" not in r.stdout, (r.stdout, r.stderr)
    assert "Skipping publisher trust check" not in r.stderr + r.stdout

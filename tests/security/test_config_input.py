"""Hostile and broken job configs (docs/bad-inputs.md, "Config"): every problem is a `ConfigError`
naming the field, the value and what is allowed; YAML is loaded safely (standard tags only, no
Python objects, no repeated keys, bounded error output)."""

from __future__ import annotations

import subprocess
import sys

import pytest

from schemas.config import ConfigError, load_job_config

SOURCE = "sources: [{name: a, format: jsonl, path: a.jsonl}]\n"


def _load(tmp_path, text: str | bytes):
    path = tmp_path / "job.yaml"
    path.write_bytes(text if isinstance(text, bytes) else text.encode())
    return load_job_config(path)


@pytest.mark.parametrize("text, field", [
    (SOURCE + "sede: 1\n", "sede"),
    (SOURCE + "pack: {contxt_length: 4096}\n", "pack.contxt_length"),
    ("sources: [{name: a, format: jsonl, path: a.jsonl, max_bad_fractoin: 0.1}]\n", r"sources\[a\].max_bad_fractoin"),
    (SOURCE + "filters: {rules: {url: {enable: false}}}\n", "filters.rules.url.enable"),
])
def test_unknown_field_is_named(tmp_path, text, field):
    with pytest.raises(ConfigError, match=f"{field} = .*unknown field"):
        _load(tmp_path, text)


@pytest.mark.parametrize("text, field", [
    (SOURCE + "seed: abc\n", "seed"),
    ("sources: {name: a}\n", "sources"),
    (SOURCE + "pack: {dp_size: [8]}\n", "pack.dp_size"),
    (SOURCE + "probe: {check_files: maybe}\n", "probe.check_files"),
    ("sources: [{name: a, format: csv, path: a.csv}]\n", r"sources\[a\].format"),
])
def test_wrong_type_is_named(tmp_path, text, field):
    with pytest.raises(ConfigError, match=f"{field} = "):
        _load(tmp_path, text)


@pytest.mark.parametrize("text, message", [
    (SOURCE + "pack: {dp_size: 0}\n", r"pack.dp_size = 0: .*allowed: 1 <= x"),
    (SOURCE + "seed: -1\n", r"seed = -1: .*allowed: 0 <= x"),
    ("sources: [{name: a, format: jsonl, path: a.jsonl, max_bad_fraction: 1.5}]\n",
     r"sources\[a\].max_bad_fraction = 1.5: .*allowed: 0.0 <= x <= 1.0"),
    (SOURCE + "probe: {max_header_pixels: 0}\n", r"probe.max_header_pixels = 0: .*allowed: 1 <= x"),
    ("sources: [{name: ../up, format: jsonl, path: a.jsonl}]\n", r"sources\[0\].name = '../up'"),
])
def test_out_of_range_value_names_field_value_and_range(tmp_path, text, message):
    with pytest.raises(ConfigError, match=message):
        _load(tmp_path, text)


@pytest.mark.parametrize("tag", [
    "!!python/object/apply:os.system ['touch {marker}']",
    "!!python/object/new:os.system ['touch {marker}']",
    "!!python/name:os.system",
    "!!python/module:os",
    "!include /etc/passwd",
])
def test_yaml_tags_beyond_the_standard_ones_are_refused(tmp_path, tag):
    marker = tmp_path / "PWNED"
    with pytest.raises(ConfigError, match="not valid safe YAML"):
        _load(tmp_path, SOURCE + f"seed: {tag.format(marker=marker)}\n")
    assert not marker.exists()


@pytest.mark.parametrize("value", ["!!binary aGVsbG8=", "!!timestamp 2001-12-14", "!!set {a, b}", "!!float nan"])
def test_standard_yaml_tags_load_but_are_refused_as_the_wrong_type(tmp_path, value):
    with pytest.raises(ConfigError, match="seed = "):
        _load(tmp_path, SOURCE + f"seed: {value}\n")


def test_repeated_key_is_refused(tmp_path):
    with pytest.raises(ConfigError, match="'seed' appears twice"):
        _load(tmp_path, SOURCE + "seed: 1\nseed: 2\n")


def test_merge_keys_still_work(tmp_path):
    cfg = _load(tmp_path, "sources: [&a {name: a, format: jsonl, path: a.jsonl}, {<<: *a, name: b, path: b.jsonl}]\n")
    assert [(s.name, s.format, s.path.rsplit("/", 1)[-1]) for s in cfg.sources] == [("a", "jsonl", "a.jsonl"),
                                                                                     ("b", "jsonl", "b.jsonl")]


def test_alias_bomb_gives_a_short_error(tmp_path):
    """Billion laughs: nine levels of nine aliases. The error shows a bounded repr of the value."""
    lines = ["l0: &l0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
    for i in range(1, 10):
        lines.append(f"l{i}: &l{i} [" + ", ".join([f"*l{i - 1}"] * 9) + "]")
    text = "\n".join(lines) + "\n" + SOURCE + "filters: {rules: {url: {tlds: *l9}}}\n"
    with pytest.raises(ConfigError) as err:
        _load(tmp_path, text)
    assert "filters.rules.url.tlds" in str(err.value) and len(str(err.value)) < 5000


@pytest.mark.parametrize("text", ["[1, 2, 3]\n", "just a string\n", "", "null\n"])
def test_config_that_is_not_a_mapping_is_refused(tmp_path, text):
    with pytest.raises(ConfigError, match="must be a mapping"):
        _load(tmp_path, text)


def test_non_utf8_config_is_refused(tmp_path):
    with pytest.raises(ConfigError, match="not UTF-8"):
        _load(tmp_path, SOURCE.encode() + b"# caf\xe9\n")


def test_cli_exits_nonzero_naming_the_field(tmp_path):
    job = tmp_path / "job.yaml"
    job.write_text(SOURCE + "seed: !!python/object/apply:os.system ['true']\n")
    proc = subprocess.run([sys.executable, "-m", "jobs.cli", "run", str(job)], capture_output=True, text=True)
    assert proc.returncode != 0
    assert "not valid safe YAML" in proc.stderr + proc.stdout and "Traceback" not in proc.stderr

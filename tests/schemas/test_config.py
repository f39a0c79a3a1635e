import pytest
import yaml

from schemas.config import ConfigError, JobConfig, load_job_config, parse_job_config

BASE = {"sources": [{"name": "a", "format": "jsonl", "path": "a.jsonl"}]}


def test_defaults_follow_the_report():
    cfg = parse_job_config(BASE)
    assert cfg.tokens.min_pixels == 56 * 56 and cfg.tokens.max_pixels == 1344 * 1344
    assert cfg.pack.context_length == 24576
    assert cfg.pack.llm_buckets == (24576,)


def test_unknown_field_is_named():
    with pytest.raises(ConfigError) as e:
        parse_job_config({**BASE, "pack": {"contxt_length": 4096}})
    assert "pack.contxt_length" in str(e.value) and "unknown field" in str(e.value)


def test_out_of_range_names_field_value_and_range():
    with pytest.raises(ConfigError) as e:
        parse_job_config({**BASE, "pack": {"context_length": 100}})
    msg = str(e.value)
    assert "pack.context_length = 100" in msg and "128 <= x <= 1048576" in msg and "multiple of 128" in msg


def test_wrong_type_is_named():
    with pytest.raises(ConfigError) as e:
        parse_job_config({**BASE, "seed": "abc"})
    assert "seed = 'abc'" in str(e.value)


def test_duplicate_source_names_rejected():
    with pytest.raises(ConfigError, match="unique"):
        parse_job_config({"sources": [BASE["sources"][0], BASE["sources"][0]]})


def test_yaml_tags_are_refused(tmp_path):
    p = tmp_path / "job.yaml"
    p.write_text("seed: !!python/object/apply:os.system ['echo pwned']\nsources: []\n")
    with pytest.raises(ConfigError, match="not valid safe YAML"):
        load_job_config(p)


def test_fingerprint_is_stable_and_ignores_execution_settings():
    a = parse_job_config(BASE)
    b = parse_job_config({**BASE, "ray": {"num_cpus": 7}, "output": {"dir": "/elsewhere"}})
    c = parse_job_config({**BASE, "seed": 1})
    assert a.fingerprint() == b.fingerprint() != c.fingerprint()
    again = JobConfig.model_validate(yaml.safe_load(a.to_yaml()))
    assert again.fingerprint() == a.fingerprint()


def test_the_per_step_detail_bound_is_fingerprinted_because_it_shapes_stats_json():
    a = parse_job_config(BASE)
    moved = parse_job_config({**BASE, "output": {"dir": "/elsewhere", "overwrite": True}})
    summarised = parse_job_config({**BASE, "output": {"per_step_detail_max_steps": 5}})
    assert a.fingerprint() == moved.fingerprint() != summarised.fingerprint()


def test_relative_paths_resolve_against_the_config_file(tmp_path):
    p = tmp_path / "sub" / "job.yaml"
    p.parent.mkdir()
    p.write_text(yaml.safe_dump(BASE))
    cfg = load_job_config(p)
    assert cfg.sources[0].path == str((p.parent / "a.jsonl").resolve())


# ---- error messages a first-time user can act on ----------------------------------------------


def _error(data) -> str:
    with pytest.raises(ConfigError) as e:
        parse_job_config(data)
    return str(e.value)


def test_unknown_keys_and_enum_values_get_a_did_you_mean():
    msg = _error({"sources": [{"name": "web", "format": "wdss", "path": "x", "tsk": "vqa"}],
                  "pack": {"context_lenght": 4096}, "grounding": {"mode": "rejct"}})
    assert "pack.context_lenght = 4096: unknown field; did you mean 'context_length'?" in msg
    assert "sources[web].tsk = 'vqa': unknown field; did you mean 'task'?" in msg
    assert "did you mean 'wds'?" in msg and "did you mean 'reject'?" in msg


def test_allowed_formats_are_listed_once_and_sources_are_named_by_name():
    msg = _error({"sources": [BASE["sources"][0], {"name": "web_alt", "format": "csv", "path": "x"}]})
    assert msg.startswith("sources[web_alt].format = 'csv': ")
    assert msg.count("'parquet'") == 1


def test_a_field_far_from_any_known_one_lists_the_known_fields():
    msg = _error({**BASE, "pack": {"zzzz": 1}})
    assert "pack.zzzz = 1: unknown field; known fields here: " in msg and "context_length" in msg


def test_missing_sources_does_not_print_the_whole_config():
    msg = _error({"pack": {"context_length": 4096}, "seed": 3})
    assert msg.startswith("sources: missing; this field is required")
    assert "context_length" not in msg and "4096" not in msg


def test_yaml_syntax_error_names_the_file_and_the_line_in_one_line(tmp_path):
    p = tmp_path / "job.yaml"
    p.write_text("sources: [\n  - {name: a\n")
    with pytest.raises(ConfigError) as e:
        load_job_config(p)
    msg = str(e.value)
    assert msg.startswith(f"{p}: not valid safe YAML: line 2, column 3: ")
    assert "<unicode string>" not in msg and "\n" not in msg

"""`JobConfig`: the whole pack job, loaded from YAML with a safe loader.

Unknown fields are rejected; every error names the field, the value it got and what is allowed
(`ConfigError`). `fingerprint()` is a stable hash of everything that changes the output — it goes
into the manifest and into checkpoint paths, so a changed config never reuses stale intermediates.
"""

from __future__ import annotations

import hashlib
import json
import re
import reprlib
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import Field, ValidationError, field_validator, model_validator

from schemas.config_base import ConfigSection, did_you_mean
from schemas.dedup_config import DedupConfig
from schemas.filter_config import FilterConfig
from schemas.grounding_config import GroundingConfig
from schemas.pack_config import PackConfig
from schemas.sample import BUILTIN_TASKS
from schemas.tokens_config import ProbeConfig, TokensConfig

SOURCE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
# Bounded repr of a bad value: a YAML alias bomb ("billion laughs") is a tiny document whose
# nested lists hold billions of references; a plain repr of it would never finish.
_SHOW = reprlib.Repr()
_SHOW.maxlevel, _SHOW.maxlist, _SHOW.maxtuple, _SHOW.maxdict, _SHOW.maxset = 3, 6, 6, 6, 6
_SHOW.maxstring, _SHOW.maxother, _SHOW.maxlong = 60, 60, 40


class ConfigError(ValueError):
    """A bad job config. The message names each bad field, its value and the allowed range."""


class SourceConfig(ConfigSection):
    name: str
    format: Literal["jsonl", "parquet", "llava", "wds"]
    path: str  # a file, a directory, or a glob; relative paths resolve against the config file
    root: str | None = None  # media root; default: the directory holding `path`
    task: str = "caption"  # default task for rows that do not name one; a known or declared task
    weight: float = Field(default=1.0, ge=0.0, le=1000.0)
    max_bad_fraction: float = Field(default=0.5, ge=0.0, le=1.0)
    # How a change to a source file is noticed (`jobs.inputs`): `stat` (path, size, mtime; the
    # default) or `content` (sha256 of the file's bytes, one full read per run).
    fingerprint: Literal["stat", "content"] = "stat"

    @field_validator("name")
    @classmethod
    def _name(cls, v: str) -> str:
        if not SOURCE_NAME.match(v):
            raise ValueError("must be 1-64 characters of letters, digits, '_', '.', '-', starting alphanumeric")
        return v


class ReadConfig(ConfigSection):
    """Limits on what one record may cost a reader. A record over a limit becomes an `invalid`
    ledger row (`read.line_too_large`, `read.cell_too_large`), read no further than the limit."""

    max_line_bytes: int = Field(default=16 << 20, ge=1024, le=1 << 31)  # one JSONL line
    # one Parquet cell, or one caption/JSON member of a webdataset tar
    max_cell_bytes: int = Field(default=16 << 20, ge=1024, le=1 << 31)
    # a LLaVA `.json` file is parsed whole: larger ones must be split or converted to JSONL
    max_json_file_bytes: int = Field(default=2 << 30, ge=1024, le=1 << 40)


class TaskSpec(ConfigSection):
    """A task the job declares beyond the built-in ones (`schemas.sample.Task`).

    `filters`: the caption/text rules judge its assistant text (it joins `filters.tasks`).
    `dedup`: near-duplicate removal considers it (it joins `dedup.tasks`)."""

    filters: bool = False
    dedup: bool = False


class MixConfig(ConfigSection):
    """Per-task weights, multiplied with each source's `weight`. A weight w keeps floor(w) copies of a
    sample plus one more with probability frac(w), drawn from a stable hash of (seed, sample_id)."""

    task_weights: dict[str, float] = Field(default_factory=dict)

    @field_validator("task_weights")
    @classmethod
    def _weights(cls, v: dict[str, float]) -> dict[str, float]:
        for task, w in v.items():
            if not 0.0 <= w <= 1000.0:
                raise ValueError(f"task_weights[{task!r}] = {w} is out of range; allowed: 0 <= w <= 1000")
        return v


class OutputConfig(ConfigSection):
    """Where the output goes. `dir` and `overwrite` are not fingerprinted (where, not what).
    `per_step_detail_max_steps`: above this many steps, stats.json and the report summarise their
    per-step lists and grids (the worst steps, means and fixed-bin histograms), so that their size does
    not grow with the steps; it changes stats.json, so it is fingerprinted."""

    dir: str = "out"
    overwrite: bool = False
    per_step_detail_max_steps: int = Field(default=10_000, ge=1)


class CacheConfig(ConfigSection):
    """Where stage results are kept for reuse (`jobs.stage_cache`); how, not what: not fingerprinted.

    `dir`: a cache shared by outputs (two jobs with the same upstream config share read → tokens);
    default OUT/.vlpack/cache. `max_bytes`: least recently used entries go above it."""

    dir: str | None = None
    max_bytes: int = Field(default=64 << 30, ge=0, le=1 << 50)


class RayConfig(ConfigSection):
    """How to run; none of this changes the output bytes, so it is not fingerprinted."""

    address: str | None = None  # None: embedded local runtime
    num_cpus: int | None = Field(default=None, ge=1, le=100_000)
    batch_size: int = Field(default=256, ge=1, le=1_000_000)
    object_store_memory: int | None = Field(default=None, ge=78_643_200)


class JobConfig(ConfigSection):
    seed: int = Field(default=0, ge=0, le=2**63 - 1)
    sources: list[SourceConfig] = Field(min_length=1)
    tasks: dict[str, TaskSpec] = Field(default_factory=dict)  # custom tasks, beyond the built-in ones
    read: ReadConfig = ReadConfig()
    probe: ProbeConfig = ProbeConfig()
    filters: FilterConfig = FilterConfig()
    grounding: GroundingConfig = GroundingConfig()
    dedup: DedupConfig = DedupConfig()
    tokens: TokensConfig = TokensConfig()
    mix: MixConfig = MixConfig()
    pack: PackConfig = PackConfig()
    output: OutputConfig = OutputConfig()
    cache: CacheConfig = CacheConfig()
    ray: RayConfig = RayConfig()

    @model_validator(mode="before")
    @classmethod
    def _custom_tasks_join_stages(cls, data):
        """A custom task declared with `filters: true` / `dedup: true` joins `filters.tasks` /
        `dedup.tasks`, so the stages need no other list of tasks."""
        if not isinstance(data, dict) or not isinstance(data.get("tasks"), dict):
            return data
        data = dict(data)
        for section, flag in (("filters", "filters"), ("dedup", "dedup")):
            joining = [name for name, spec in data["tasks"].items() if isinstance(spec, dict) and spec.get(flag)]
            if not joining:
                continue
            sec = data.get(section)
            sec = dict(sec) if isinstance(sec, dict) else {}
            model = FilterConfig if section == "filters" else DedupConfig
            current = sec.get("tasks", model.model_fields["tasks"].default)
            if isinstance(current, (list, tuple)):
                sec["tasks"] = list(dict.fromkeys([*current, *joining]))
                data[section] = sec
        return data

    @model_validator(mode="after")
    def _unique_sources(self) -> JobConfig:
        names = [s.name for s in self.sources]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise ValueError(f"source names must be unique; repeated: {dupes}")
        return self

    @model_validator(mode="after")
    def _known_tasks(self) -> JobConfig:
        """Every task the config names is a built-in task or one declared under `tasks:`. A typo
        (`task: captoin`) would otherwise silently turn the caption rules and dedup off."""
        for name in self.tasks:
            if name in BUILTIN_TASKS:
                raise ValueError(f"tasks.{name}: {name!r} is a built-in task; declare only new tasks under tasks:")
            if not SOURCE_NAME.match(name):
                raise ValueError(f"tasks.{name}: a task name is 1-64 letters, digits, '_', '.', '-'")
        known = self.task_names()
        used = [(f"sources[{s.name}].task", s.task) for s in self.sources]
        used += [(f"filters.tasks[{i}]", t) for i, t in enumerate(self.filters.tasks)]
        used += [(f"dedup.tasks[{i}]", t) for i, t in enumerate(self.dedup.tasks)]
        used += [(f"mix.task_weights.{t}", t) for t in self.mix.task_weights]
        used += [(f"tokens.video.temporal_tasks[{i}]", t) for i, t in enumerate(self.tokens.video.temporal_tasks)]
        for where, task in used:
            if task not in known:
                raise ValueError(f"{where} = {task!r}: unknown task;{did_you_mean(task, known)} known tasks: "
                                 f"{', '.join(known)}; declare a new one under tasks: {{{task}: {{filters: true}}}}")
        return self

    def task_names(self) -> tuple[str, ...]:
        """Every task a row may have: the built-in ones and the declared ones."""
        return (*BUILTIN_TASKS, *self.tasks)

    def fingerprint(self) -> str:
        """sha256 (hex, 16 chars) of the canonical JSON of every field that affects the output.

        `ray` (execution only), `output.dir`, `output.overwrite` and `cache` (where, not what; the
        output's `per_step_detail_max_steps` shapes stats.json, so it counts), each source's `max_bad_fraction`
        (whether the job may finish, not what it writes: a job stopped by too many invalid samples
        resumes from its checkpoints once the tolerance is raised) and each source's `fingerprint`
        mode (how changes are noticed) are excluded. The inputs themselves are fingerprinted
        apart (`jobs.inputs`).
        """
        payload = self.model_dump(mode="json", exclude={"ray": True, "output": {"dir", "overwrite"}, "cache": True,
                                                        "sources": {"__all__": {"max_bad_fraction", "fingerprint"}}})
        blob = json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
        return hashlib.sha256(blob.encode()).hexdigest()[:16]

    def to_yaml(self) -> str:
        return yaml.safe_dump(self.model_dump(mode="json"), sort_keys=False, allow_unicode=True)


REQUIRED_HINTS = {
    ("sources",): "every job reads at least one source, e.g. `sources: [{name: web, format: wds, path: data/web}]`",
    ("sources", "name"): "a short name for the source (letters, digits, '_', '.', '-'), used in sample ids",
    ("sources", "format"): "one of 'jsonl', 'parquet', 'llava', 'wds' (docs/input-formats.md)",
    ("sources", "path"): "a file, a directory or a glob, relative to the job config",
}


def field_path(loc: tuple, data: Any = None) -> str:
    """A readable path: `pack.context_length`, `sources[web_alt].format` (a list item by its valid
    `name` when it has one, else by position: `sources[2]`)."""
    out = ""
    node = data
    for part in loc:
        if isinstance(part, int):
            item = node[part] if isinstance(node, list) and 0 <= part < len(node) else None
            name = item.get("name") if isinstance(item, dict) else None
            out += f"[{name}]" if isinstance(name, str) and SOURCE_NAME.match(name) else f"[{part}]"
            node = item
        else:
            out += f".{part}" if out else str(part)
            node = node.get(part) if isinstance(node, dict) else None
    return out or "<root>"


def describe_validation_error(err: ValidationError, data: Any = None, model: Any = None) -> str:
    """One line per problem: `field.path = value: what is wrong; allowed: ...; did you mean ...?`.

    `data` is the validated input (to name sources by their `name`); `model` the validated class
    (default `JobConfig`), whose declared bounds are listed as the allowed range."""
    model = model or JobConfig
    lines = []
    for e in err.errors():
        loc = tuple(e["loc"])
        where = field_path(loc, data)
        value = e.get("input")
        shown = _SHOW.repr(value)
        if len(shown) > 80:
            shown = shown[:77] + "..."
        ctx = e.get("ctx") or {}
        if e["type"] == "missing":
            hint = REQUIRED_HINTS.get(tuple(p for p in loc if not isinstance(p, int)))
            lines.append(f"{where}: missing; this field is required" + (f" ({hint})" if hint else ""))
            continue
        if e["type"] == "extra_forbidden":
            known = _fields_at(model, loc[:-1])
            guess = did_you_mean(loc[-1], known) if known else ""
            msg = "unknown field" + (f";{guess}" if guess else f"; known fields here: {', '.join(known)}" if known else "")
            lines.append(f"{where} = {shown}: {msg}")
            continue
        if e["type"] in ("literal_error", "enum") and "expected" in ctx:
            allowed = re.findall(r"'([^']*)'", str(ctx["expected"]))
            guess = did_you_mean(value, allowed) if isinstance(value, str) else ""
            lines.append(f"{where} = {shown}: not an allowed value; allowed: {ctx['expected']}"
                         + (f";{guess}" if guess else ""))
            continue
        msg = e["msg"]
        if "expected" in ctx and "expected" not in msg:
            msg += f" (allowed: {ctx['expected']})"
        allowed = _allowed_range(loc, model)
        if allowed:
            msg += f"; allowed: {allowed}"
        if not e["loc"] and e["type"] == "value_error":  # a check across fields names them itself
            lines.append(msg.removeprefix("Value error, "))
            continue
        lines.append(f"{where} = {shown}: {msg}")
    return "\n".join(lines)


def _section_at(model: Any, loc: tuple):
    """(the config class holding the last field of `loc`, that field's FieldInfo), or (None, None).
    List positions are skipped: `sources.2.format` is a field of SourceConfig."""
    info = None
    for part in loc:
        if isinstance(part, int):
            continue
        fields = getattr(model, "model_fields", None)
        if not fields or part not in fields:
            return None, None
        info = fields[part]
        args = getattr(info.annotation, "__args__", ()) or ()
        model = next((a for a in (info.annotation, *args) if hasattr(a, "model_fields")), None)
    return model, info


def _fields_at(model: Any, loc: tuple) -> list[str]:
    """The field names of the config section at `loc`, or []."""
    section = _section_at(model, loc)[0] if loc else model
    return list(getattr(section, "model_fields", {}) or {})


def _allowed_range(loc: tuple, model: Any = None) -> str | None:
    """The numeric constraints declared on the field at `loc`, e.g. `128 <= x <= 1048576, multiple of 128`."""
    info = _section_at(model or JobConfig, loc)[1]
    if info is None:
        return None
    bounds = {}
    for m in info.metadata:
        for key in ("ge", "gt", "le", "lt", "multiple_of"):
            if getattr(m, key, None) is not None:
                bounds[key] = getattr(m, key)
    parts = []
    low = f"{bounds['ge']} <= " if "ge" in bounds else (f"{bounds['gt']} < " if "gt" in bounds else "")
    high = f" <= {bounds['le']}" if "le" in bounds else (f" < {bounds['lt']}" if "lt" in bounds else "")
    if low or high:
        parts.append(f"{low}x{high}")
    if "multiple_of" in bounds:
        parts.append(f"multiple of {bounds['multiple_of']}")
    return ", ".join(parts) or None


def parse_job_config(data: Any, *, base_dir: str | Path | None = None) -> JobConfig:
    """Validate a mapping as a `JobConfig`; relative source paths resolve against `base_dir`."""
    if not isinstance(data, dict):
        raise ConfigError(f"<root> = {type(data).__name__}: a job config must be a mapping of fields")
    if base_dir is not None:
        data = _resolve_paths(data, Path(base_dir))
    try:
        return JobConfig.model_validate(data)
    except ValidationError as err:
        raise ConfigError(describe_validation_error(err, data)) from None


class _UniqueKeySafeLoader(yaml.SafeLoader):
    """PyYAML's safe loader (standard tags only: no Python objects, no custom tags) that also
    refuses a key repeated in one mapping, which plain PyYAML resolves silently to the last one."""

    def construct_mapping(self, node, deep=False):
        if isinstance(node, yaml.MappingNode):
            seen: set = set()
            for key_node, _ in node.value:
                if key_node.tag == "tag:yaml.org,2002:merge":
                    continue  # `<<: *base` then overriding a merged key is the point of merging
                key = self.construct_object(key_node, deep=deep)
                try:
                    repeated = key in seen
                except TypeError:  # an unhashable key: the base class names that error
                    continue
                if repeated:
                    raise yaml.constructor.ConstructorError(None, None, f"key {key!r} appears twice in one mapping",
                                                            key_node.start_mark)
                seen.add(key)
        return super().construct_mapping(node, deep=deep)


def load_job_config(path: str | Path) -> JobConfig:
    """Load a YAML job config with the safe loader (no Python tags, no arbitrary objects, no
    repeated keys)."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as err:
        raise ConfigError(f"cannot read job config {path}: {err.strerror}") from None
    except UnicodeDecodeError as err:
        raise ConfigError(f"{path}: not UTF-8 text (byte {err.start}): save the job config as UTF-8") from None
    try:
        data = yaml.load(text, Loader=_UniqueKeySafeLoader)  # noqa: S506 - a SafeLoader subclass
    except yaml.YAMLError as err:
        raise ConfigError(f"{path}: not valid safe YAML: {_yaml_problem(err)}") from None
    return parse_job_config(data, base_dir=path.resolve().parent)


def _yaml_problem(err: yaml.YAMLError) -> str:
    """`line L, column C: problem (context)` on one line, instead of PyYAML's multi-line text that
    names the document `<unicode string>`."""
    mark = getattr(err, "problem_mark", None)
    problem = getattr(err, "problem", None)
    if mark is None or problem is None:
        return " ".join(str(err).split())
    context = getattr(err, "context", None)
    return f"line {mark.line + 1}, column {mark.column + 1}: {problem}" + (f" ({context})" if context else "")


def _resolve_paths(data: dict, base: Path) -> dict:
    data = dict(data)
    sources = data.get("sources")
    if isinstance(sources, list):
        resolved = []
        for src in sources:
            if isinstance(src, dict):
                src = dict(src)
                for key in ("path", "root"):
                    if isinstance(src.get(key), str) and not Path(src[key]).is_absolute():
                        src[key] = str((base / src[key]).resolve())
            resolved.append(src)
        data["sources"] = resolved
    filters = data.get("filters")
    if isinstance(filters, dict):  # local model paths: the scorers' and the learned junk rule's
        filters = dict(filters)
        for group, names in (("scorers", ("nsfw", "clip", "lm")), ("rules", ("learned_junk",))):
            if isinstance(filters.get(group), dict):
                filters[group] = {**filters[group], **{
                    name: {**sec, "model_path": str((base / sec["model_path"]).resolve())}
                    for name in names if isinstance(sec := filters[group].get(name), dict)
                    and isinstance(sec.get("model_path"), str) and not Path(sec["model_path"]).is_absolute()}}
        data["filters"] = filters
    for section in ("output", "cache"):
        sec = data.get(section)
        if isinstance(sec, dict) and isinstance(sec.get("dir"), str) and not Path(sec["dir"]).is_absolute():
            data[section] = {**sec, "dir": str((base / sec["dir"]).resolve())}
    return data

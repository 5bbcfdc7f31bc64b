"""Find, merge and validate policy files.

A deployment overrides shipped values without editing them: put a file with
``extends: liaocheng-2023`` and only the changed values in a directory named by
``JIUZHU_POLICY_PATH`` (it is searched before the shipped policies), or pass
``--override FILE`` / ``--set path=value`` on the command line.
"""

from __future__ import annotations

import copy
import functools
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml
from pydantic import TypeAdapter, ValidationError

from jiuzhu.domain.engine.rules import CompiledPolicy, RuleError
from jiuzhu.domain.policy.audit import unsourced, walk
from jiuzhu.domain.policy.model import Policy
from jiuzhu.domain.policy.names import param_name
from jiuzhu.io.errors import flatten
from jiuzhu.io.policy_paths import POLICY_PATH_ENV as POLICY_PATH_ENV
from jiuzhu.io.policy_paths import PolicyFileError as PolicyFileError
from jiuzhu.io.policy_paths import find, read_bytes
from jiuzhu.io.policy_paths import locate as locate
from jiuzhu.io.policy_paths import search_dirs as search_dirs
from jiuzhu.io.policy_paths import shipped_dir as shipped_dir
from jiuzhu.io.policy_paths import shipped_ids as shipped_ids

if TYPE_CHECKING:
    from jiuzhu.domain.policy.constraints import Framework
    from jiuzhu.domain.workflow import Workflow


class _UniqueKeyLoader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):  # type: ignore[misc]
    """PyYAML silently keeps the last of two equal keys; a policy must not.

    On libyaml's parser when PyYAML has it (the same documents, five to ten times faster:
    a one-claim ``settle`` reads two or three YAML files, docs/performance.md)."""


def _construct_mapping(loader: _UniqueKeyLoader, node: yaml.MappingNode) -> dict[Any, Any]:
    seen: set[Any] = set()
    for key_node, _ in node.value:
        key = loader.construct_object(key_node)
        if key in seen:
            raise yaml.constructor.ConstructorError(
                None, None, f"重复的键 {key!r}", key_node.start_mark
            )
        seen.add(key)
    mapping: dict[Any, Any] = loader.construct_mapping(node)
    return mapping


_UniqueKeyLoader.add_constructor(
    yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG,
    _construct_mapping,
)
# Dates stay strings until pydantic parses them, so "2023-02-30" is reported, not crashed on.
_UniqueKeyLoader.yaml_implicit_resolvers = {
    k: [(tag, rx) for tag, rx in v if tag != "tag:yaml.org,2002:timestamp"]
    for k, v in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def read_yaml(path: Path) -> dict[str, Any]:
    try:
        text = read_bytes(path).decode("utf-8")
    except OSError as err:
        raise PolicyFileError(str(path), [("", f"无法读取文件：{err.strerror}")]) from err
    except UnicodeDecodeError as err:
        where = f"第 {err.start + 1} 个字节起无法解码"
        raise PolicyFileError(str(path), [("", f"文件不是 UTF-8 编码（{where}）")]) from err
    try:
        data = yaml.load(text, Loader=_UniqueKeyLoader)
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        where = f"第 {mark.line + 1} 行" if mark is not None else ""
        problem = getattr(err, "problem", None) or str(err)
        raise PolicyFileError(str(path), [(where, f"YAML 格式错误：{problem}")]) from err
    if not isinstance(data, dict):
        raise PolicyFileError(str(path), [("", "政策文件的顶层须为映射")])
    return data


def deep_merge(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    """Mappings merge key by key; anything else in ``over`` replaces ``base``."""
    out = copy.deepcopy(base)
    for key, value in over.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = deep_merge(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


def raw_policy(path: Path, depth: int = 0) -> dict[str, Any]:
    """The file's mapping with its ``extends`` chain merged in."""
    data = read_yaml(path)
    parent = data.pop("extends", None)
    if parent is None:
        return data
    if depth > 8:
        raise PolicyFileError(str(path), [("extends", "extends 嵌套过深（是否循环引用？）")])
    try:
        parent_path = locate(str(parent), skip=path)
    except PolicyFileError as err:
        raise PolicyFileError(str(path), [("extends", msg) for _, msg in err.problems]) from err
    return deep_merge(raw_policy(parent_path, depth + 1), data)


def apply_set(data: dict[str, Any], assignment: str) -> None:
    """``benefits.medical_assistance.schedules.near_dibao.rate=60%``."""
    if "=" not in assignment:
        raise PolicyFileError("--set", [(assignment, "应写成 path=value")])
    path, value = assignment.split("=", 1)
    keys = path.strip().split(".")
    node: Any = data
    for i, key in enumerate(keys[:-1]):
        nxt = node[int(key)] if isinstance(node, list) else node.get(key)
        if nxt is None:
            where = ".".join(keys[: i + 1])
            raise PolicyFileError("--set", [(where, "政策中没有这个位置")])
        node = nxt
    last = keys[-1]
    parsed: Any = yaml.load(value, Loader=_UniqueKeyLoader)
    if isinstance(parsed, int | float) and not isinstance(parsed, bool):
        parsed = value.strip()  # money and rates are strings in policy files: "12000.00"
    if isinstance(node, list):
        node[int(last)] = parsed
    elif isinstance(node.get(last), dict) and not isinstance(parsed, dict):
        node[last]["value"] = parsed
    else:
        node[last] = parsed


@functools.cache
def _policy_reader() -> TypeAdapter[Policy]:
    """pydantic's validator of a policy file, built from the policy's dataclasses once, when
    the first file is read (the engine itself never needs it: ADR 21)."""
    return TypeAdapter(Policy)


def build(data: dict[str, Any], source: str) -> Policy:
    try:
        policy = _policy_reader().validate_python(data)
    except ValidationError as err:
        raise PolicyFileError(source, flatten(err)) from err
    missing = unsourced(policy)
    if missing:
        raise PolicyFileError(source, [(p, "取值没有条款出处（clause）") for p in missing])
    return policy


def load_policy(ref: str, overrides: Iterable[str | Path] = (), sets: Iterable[str] = ()) -> Policy:
    """Load a policy by ID or file path, then apply override files and ``--set`` values."""
    path = Path(ref)
    if ref.endswith((".yaml", ".yml")):
        if not path.is_file():
            raise PolicyFileError(ref, [("", "政策文件不存在或无法读取")])
    else:
        path = locate(ref)
    data = raw_policy(path)
    for over in overrides:
        data = deep_merge(data, read_yaml(Path(over)))
    set_paths = [a.split("=", 1)[0].strip() for a in sets]
    for assignment in sets:
        apply_set(data, assignment)
    try:
        return build(data, str(path))
    except PolicyFileError as err:
        # A problem at a --set path is the option's, not the shipped file's.
        mine = [(p, m) for p, m in err.problems if p in set_paths]
        if mine and len(mine) == len(err.problems):
            raise PolicyFileError("--set", mine) from err
        raise


def compile_policy(policy: Policy, source: str = "", changes: Sequence[str] = ()) -> CompiledPolicy:
    try:
        return CompiledPolicy(policy, tuple(changes))
    except RuleError as err:
        raise PolicyFileError(source or policy.id, [("benefits", str(err))]) from err


def _file_of(ref: str) -> Path:
    return Path(ref) if ref.endswith((".yaml", ".yml")) else locate(ref)


def _root_file(path: Path, depth: int = 0) -> Path:
    """The file at the end of an ``extends`` chain: the policy as published."""
    parent = read_yaml(path).get("extends")
    if parent is None or depth > 8:
        return path
    return _root_file(locate(str(parent), skip=path), depth + 1)


def changed_values(
    ref: str, policy: Policy, overrides: Iterable[str | Path] = (), sets: Iterable[str] = ()
) -> list[str]:
    """In words, every value of ``policy`` that differs from the file it was published in
    (``extends``, ``--override``, ``--set``): ``医疗救助·…·比例 50% → 60%（聊城实施方案 三(四)2）``.

    Output settled under such values says so, so nobody reads them as the bureau's.
    """
    path = _file_of(ref)
    root = _root_file(path)
    if root == path and not list(overrides) and not list(sets):
        return []
    shipped = {i.path: i for i in walk(build(raw_policy(root), str(root)))}
    out = []
    for info in walk(policy):
        old = shipped.get(info.path)
        if old is None or str(old.param) != str(info.param):
            before = "无" if old is None else str(old.param)
            where = f"（{info.clause}）" if info.clause else ""
            out.append(f"{param_name(policy, info.path)} {before} → {info.param}{where}")
    return out


def load_compiled(
    ref: str, overrides: Sequence[str | Path] = (), sets: Sequence[str] = ()
) -> CompiledPolicy:
    """Load, apply overrides and compile, remembering which values differ from the file."""
    policy = load_policy(ref, overrides, sets)
    return compile_policy(policy, ref, changed_values(ref, policy, overrides, sets))


def load_framework(framework_id: str) -> Framework:
    from jiuzhu.domain.policy.constraints import Framework

    path = find("framework", framework_id)
    if path is not None:
        try:
            return Framework.model_validate(read_yaml(path))
        except ValidationError as err:
            raise PolicyFileError(str(path), flatten(err)) from err
    raise PolicyFileError(framework_id, [("framework", f"未知的省级框架 {framework_id!r}")])


def load_workflow() -> Workflow:
    """The application procedure's transition table (``policies/procedure/applications.yaml``)."""
    from jiuzhu.domain.workflow import Workflow

    path = shipped_dir() / "procedure" / "applications.yaml"
    try:
        return Workflow.model_validate(read_yaml(path))
    except ValidationError as err:
        raise PolicyFileError(str(path), flatten(err)) from err

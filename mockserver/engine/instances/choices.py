"""anyOf / oneOf / if-then-else: a branch in rng order, merged with the keywords around it."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from mockserver.engine.instances.core import BRANCH_ATTEMPTS, GeneratorCore
from mockserver.engine.instances.errors import Retry, UnsatisfiableSchemaError
from mockserver.engine.instances.merging import merge
from mockserver.engine.instances.pointers import child_pointer
from mockserver.engine.instances.refs import SOFT_REF_DEPTH, Trail, has_ref, recursion_depth


class ChoiceMixin(GeneratorCore):
    def _branch_order(self, branches: list[Any], trail: Trail) -> list[int]:
        order = list(range(len(branches)))
        self.rng.shuffle(order)
        minimal = recursion_depth(trail) >= SOFT_REF_DEPTH

        def key(index: int) -> tuple[bool, bool]:
            branch = branches[index]
            only_null = isinstance(branch, Mapping) and branch.get("type") == "null"
            return (minimal and has_ref(branch), only_null)

        return sorted(order, key=key)  # stable: keeps the rng order within each group

    def _generate_choice(
        self, schema: Mapping[str, Any], key: str, path: str, trail: Trail, hint: str | None
    ) -> Any:
        branches: list[Any] = schema[key]
        if not branches:
            raise UnsatisfiableSchemaError(f"at {path!r}: empty {key}")
        base = {k: v for k, v in schema.items() if k != key}
        errors: list[str] = []
        only_unsat = True
        for index in self._branch_order(branches, trail):
            branch = branches[index]
            branch_path = child_pointer(path, key, index)
            try:
                flat, branch_trail = self.flatten(branch, branch_path, trail)
                candidate = merge(base, flat, branch_path)
            except UnsatisfiableSchemaError as exc:
                errors.append(str(exc))
                continue
            for _ in range(BRANCH_ATTEMPTS):
                try:
                    value = self.generate(candidate, branch_path, branch_trail, hint)
                except UnsatisfiableSchemaError as exc:
                    errors.append(str(exc))
                    break
                except Retry as exc:
                    only_unsat = False
                    errors.append(str(exc))
                    continue
                only_unsat = False
                if not self.is_valid(branch, value):
                    errors.append(f"at {branch_path!r}: value {value!r} fails the branch")
                    continue
                if key == "oneOf" and any(
                    self.is_valid(other, value) for i, other in enumerate(branches) if i != index
                ):
                    errors.append(f"at {branch_path!r}: value {value!r} matches several branches")
                    continue
                return value
        summary = f"at {path!r}: no {key} branch could be satisfied: " + "; ".join(errors[:4])
        if only_unsat:
            raise UnsatisfiableSchemaError(summary)
        raise Retry(summary)

    def _generate_conditional(
        self, schema: Mapping[str, Any], path: str, trail: Trail, hint: str | None
    ) -> Any:
        condition = schema["if"]
        rest = {k: v for k, v in schema.items() if k not in ("if", "then", "else")}
        options: list[Any] = [
            {"allOf": [condition, schema.get("then", True)]},
            {"allOf": [schema.get("else", True)], "not": condition},
        ]
        self.rng.shuffle(options)
        whole = {k: schema[k] for k in ("if", "then", "else") if k in schema}
        failure: Exception = Retry(f"at {path!r}: neither if/then nor else could be satisfied")
        for option in options:
            try:
                flat, option_trail = self.flatten(option, path, trail)
                value = self.generate(merge(rest, flat, path), path, option_trail, hint)
            except (Retry, UnsatisfiableSchemaError) as exc:
                failure = exc
                continue
            if self.is_valid(whole, value):
                return value
        raise failure

"""Does a served schema keep every item of a contract schema? (test_schema_snapshot.py)

Every type, field, argument, input field and enum value of the contract must be
served with the same kind and type, and arguments and input fields with the
contract's default; additions are allowed, except a new required argument
(it would break the contract's queries). compare() returns the differences, one
line each, and how many items were checked.
"""

from __future__ import annotations

from typing import Any

from graphql import (
    GraphQLEnumType,
    GraphQLInputObjectType,
    GraphQLInterfaceType,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLScalarType,
    GraphQLSchema,
    GraphQLUnionType,
    Undefined,
)
from graphql.language import print_ast
from graphql.utilities import ast_from_value

KINDS = (
    (GraphQLObjectType, "type"),
    (GraphQLInputObjectType, "input"),
    (GraphQLEnumType, "enum"),
    (GraphQLInterfaceType, "interface"),
    (GraphQLUnionType, "union"),
    (GraphQLScalarType, "scalar"),
)


def kind(type_: Any) -> str:
    return next((name for cls, name in KINDS if isinstance(type_, cls)), type(type_).__name__)


def default(value: Any, type_: Any) -> str | None:
    if value is None or value is Undefined:
        return None
    node = ast_from_value(value, type_)
    return print_ast(node) if node else None


def compare(served: GraphQLSchema, contract: GraphQLSchema) -> tuple[list[str], int]:
    problems: list[str] = []
    checked = 0

    def check(ok: bool, problem: str) -> bool:
        nonlocal checked
        checked += 1
        if not ok:
            problems.append(problem)
        return ok

    def same_default(want: Any, have: Any, where: str) -> None:
        wanted = default(want.default_value, want.type)
        if wanted is not None:
            check(default(have.default_value, have.type) == wanted, f"{where}: default differs from the contract's {wanted}")

    for name, want in sorted(contract.type_map.items()):
        if name.startswith("__"):
            continue
        have = served.type_map.get(name)
        if not check(have is not None, f"missing {kind(want)} {name}"):
            continue
        if not check(kind(have) == kind(want), f"{name}: is {kind(have)}, the contract says {kind(want)}"):
            continue
        if isinstance(want, (GraphQLObjectType, GraphQLInterfaceType, GraphQLInputObjectType)):
            for field_name, wfield in want.fields.items():
                where = f"{name}.{field_name}"
                hfield = have.fields.get(field_name)
                if not check(hfield is not None, f"missing field {where}"):
                    continue
                check(str(hfield.type) == str(wfield.type), f"{where}: type {hfield.type}, the contract says {wfield.type}")
                if isinstance(want, GraphQLInputObjectType):
                    same_default(wfield, hfield, where)
                    continue
                for arg_name, warg in wfield.args.items():
                    harg = hfield.args.get(arg_name)
                    if not check(harg is not None, f"missing argument {where}({arg_name})"):
                        continue
                    check(str(harg.type) == str(warg.type), f"{where}({arg_name}): type {harg.type}, the contract says {warg.type}")
                    same_default(warg, harg, f"{where}({arg_name})")
                for arg_name, harg in hfield.args.items():
                    if arg_name not in wfield.args and isinstance(harg.type, GraphQLNonNull) and harg.default_value is Undefined:
                        check(False, f"{where}({arg_name}): a new required argument breaks the contract's queries")
        elif isinstance(want, GraphQLEnumType):
            for value in want.values:
                check(value in have.values, f"missing enum value {name}.{value}")
    for root in ("query_type", "mutation_type", "subscription_type"):
        want_root, have_root = getattr(contract, root), getattr(served, root)
        if want_root is not None:
            check(have_root is not None and have_root.name == want_root.name, f"{root}: the contract uses {want_root.name}")
    return problems, checked

"""Every inline example of every rules file in rules/ runs as its own test."""

from __future__ import annotations

from pathlib import Path

import pytest

from budget.check import example_line, judge_example
from budget.engine.classifier import Classifier
from budget.rules import load_rules

RULES_DIR = Path(__file__).resolve().parent.parent / "rules"


def _examples():
    for path in sorted(RULES_DIR.glob("*.toml")):
        rules = load_rules(path)
        for category in rules.categories:
            for index, example in enumerate(category.example):
                yield pytest.param(path, category.id, index, id=f"{path.stem}:{category.id}#{index + 1}")


_CLASSIFIERS: dict[Path, tuple] = {}


@pytest.mark.parametrize("path, category_id, index", list(_examples()))
def test_rules_example(path, category_id, index):
    if path not in _CLASSIFIERS:
        rules = load_rules(path)
        _CLASSIFIERS[path] = (rules, Classifier(rules))
    rules, classifier = _CLASSIFIERS[path]
    category = rules.category(category_id)
    example = category.example[index]
    outcome = judge_example(category, index, example, classifier.classify(example_line(example, rules)))
    assert outcome.passed, outcome.why


def test_there_are_examples_to_run():
    assert len(list(_examples())) >= 30

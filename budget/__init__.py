"""gender-budget: plan, classify and report a Taiwanese agency's gender budget (性別預算)."""

__version__ = "0.1.0"

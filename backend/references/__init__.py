"""Case reference numbers: short, unambiguous when read aloud or typed, with a check character (the format lives in
the project-wide `case_references` package, which the assistant uses too)."""

from case_references import ALPHABET, PREFIXES, check_character, generate, is_valid, normalize

__all__ = ["ALPHABET", "PREFIXES", "check_character", "generate", "is_valid", "normalize"]

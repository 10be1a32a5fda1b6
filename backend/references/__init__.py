"""Case reference numbers: short, unambiguous when read aloud or typed, with a check character."""

from backend.references.service import ALPHABET, PREFIXES, check_character, generate, is_valid, normalize

__all__ = ["ALPHABET", "PREFIXES", "check_character", "generate", "is_valid", "normalize"]

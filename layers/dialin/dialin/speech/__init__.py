"""What callers hear: ``messages`` (the English prompts), ``catalogues`` (the same in other
languages), ``prompts`` (the caller's language and voice), ``spoken`` (a spoken PIN as
digits)."""

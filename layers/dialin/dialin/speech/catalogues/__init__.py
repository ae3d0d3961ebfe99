"""What callers hear in languages other than English, one module per language.

Each module has ``TEXTS``: the name of every prompt in ``dialin.speech.messages`` (the English
catalogue) mapped to its translation, with the same ``{placeholders}``. A test fails while a
catalogue misses a prompt: when you add an English prompt, add its translation to each one.
"""

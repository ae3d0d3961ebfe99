"""Brute-force defences: ``lockout`` (a caller's own failure counter), ``budgets`` (who is
attested, the per-number and per-stack budgets, the Guard a step acts on), ``defences``
(which counters a caller spends, read and counted on the table), ``forgiveness`` (which of a
call's failures were typos of the PIN that then matched)."""

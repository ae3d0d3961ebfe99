"""Core rules with no I/O, used by every other package: ``validation`` (E.164, names,
masking), ``errors`` (every exception of ours), ``config`` (Settings from the environment),
``identity`` (participant identities), ``records`` (item formats and their reader), ``keys``
(every key of the table, who writes and reads each kind), ``pins`` (generate and hash PINs)."""

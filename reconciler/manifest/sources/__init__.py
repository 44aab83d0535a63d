"""Value sources beyond env and file: one small module per source, one interface for all
(`Source` and `Resolution` live in `reconciler/values.py`, beside `ValueSource`).

A source says what it is (`describe`, for messages: never a value), what it shares with other
secrets (`load_key`: one sops file is decrypted once for all its keys, one AWS secret fetched
once for all its JSON keys), how to load that (`load`, the slow part: a program or a network
call) and how to take this secret's value from it (`pick`). A `Resolution` is one run's cache:
each load happens at most once per run, loads run concurrently when prefetched, and errors
are kept like values so one failing file is reported for each secret, asked once.
"""

"""Advocacy letters in support of a person (to a housing office, a benefits assessor, an
employer): templates in plain language with placeholders, filled from the person's record
and social history, checked and changed by the clinician, issued as an A4 PDF and kept on
the record with who wrote it, when, from which template version, and the PDF's SHA-256.

Templates are built in (shipped in `builtin_templates/`, the same for everyone) or belong to
an organisation, whose organisation administrators edit them; every edit is a new version,
and each letter keeps the version it was written from.
"""

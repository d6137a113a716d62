"""Closed-loop referral: consent first, a referral to a directory service for one or more
needs, its progress through the FHIR Task statuses, follow-up until the loop is closed, and
the outcome (wellbeing before and after)."""

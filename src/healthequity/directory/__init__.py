"""The service directory, on the Open Referral UK (ORUK) v3 standard: organisations, the
services they run, where and when, for whom, at what cost; mapped to the social needs they
meet; imported from and published as ORUK feeds; searched by need, distance and text."""

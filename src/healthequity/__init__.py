"""healthequity: act on the social determinants of health.

Clinicians take a coded social history and refer people to local non-medical help;
analysts see needs, referrals and outcomes along the deprivation gradient.
"""

__version__ = "0.1.0"

"""Places: postcodes loaded from the ONS postcode directory, and area look-up pages and API
over the shipped reference geography (`healthequity.geography`)."""

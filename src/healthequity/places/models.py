"""Postcodes loaded from a user-supplied ONS postcode directory (NSPL or ONSPD)."""

from __future__ import annotations

from sqlalchemy import Float, String
from sqlalchemy.orm import Mapped, mapped_column

from healthequity.store.database import Base


class Postcode(Base):
    __tablename__ = "postcode"

    # ONS `pcds` form: outward code, one space, inward code.
    postcode: Mapped[str] = mapped_column(String(8), primary_key=True)
    lsoa21_code: Mapped[str | None] = mapped_column(String(9), index=True)
    latitude: Mapped[float | None] = mapped_column(Float)
    longitude: Mapped[float | None] = mapped_column(Float)

"""Tables of the directory: the ORUK v3 (HSDS 3.0, UK profile) entities, with ORUK's own
identifiers (UUID strings) as primary keys so that feeds re-import by id, plus the curation
fields ORUK lacks (review date and reviewer, whether referrals are accepted, and how).

ORUK field names are kept as they are, so that mapping to and from the standard's JSON is
one name to one name.
"""

from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import Boolean, Date, Float, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from healthequity.store.database import Base, UtcDateTime, enum_column, utc_now

ID = String(64)  # ORUK ids are UUIDs; feeds sometimes use other strings, kept as given


class ServiceStatus(enum.StrEnum):
    ACTIVE = "active"
    INACTIVE = "inactive"
    DEFUNCT = "defunct"
    TEMPORARILY_CLOSED = "temporarily closed"


class ReferralMethod(enum.StrEnum):
    IN_APP = "in_app"
    EMAIL = "email"
    PHONE = "phone"
    SELF_REFERRAL = "self_referral"


class Organization(Base):
    __tablename__ = "directory_organization"

    id: Mapped[str] = mapped_column(ID, primary_key=True)
    name: Mapped[str] = mapped_column(String(300))
    alternate_name: Mapped[str | None] = mapped_column(String(300))
    description: Mapped[str] = mapped_column(Text, default="")
    email: Mapped[str | None] = mapped_column(String(254))
    website: Mapped[str | None] = mapped_column(String(500))
    logo: Mapped[str | None] = mapped_column(String(500))
    uri: Mapped[str | None] = mapped_column(String(500))
    parent_organization_id: Mapped[str | None] = mapped_column(ID)
    last_modified: Mapped[datetime] = mapped_column(UtcDateTime, default=utc_now)

    services: Mapped[list[Service]] = relationship(back_populates="organization")


class Service(Base):
    __tablename__ = "directory_service"

    id: Mapped[str] = mapped_column(ID, primary_key=True)
    organization_id: Mapped[str] = mapped_column(
        ForeignKey("directory_organization.id"), index=True
    )
    name: Mapped[str] = mapped_column(String(300))
    alternate_name: Mapped[str | None] = mapped_column(String(300))
    description: Mapped[str] = mapped_column(Text, default="")
    url: Mapped[str | None] = mapped_column(String(500))
    email: Mapped[str | None] = mapped_column(String(254))
    status: Mapped[ServiceStatus] = mapped_column(
        enum_column(ServiceStatus, "service_status"), default=ServiceStatus.ACTIVE
    )
    fees: Mapped[str | None] = mapped_column(Text)
    accreditations: Mapped[str | None] = mapped_column(Text)
    eligibility_description: Mapped[str | None] = mapped_column(Text)
    minimum_age: Mapped[float | None] = mapped_column(Float)
    maximum_age: Mapped[float | None] = mapped_column(Float)
    assured_date: Mapped[date | None] = mapped_column(Date)
    assurer_email: Mapped[str | None] = mapped_column(String(254))
    alert: Mapped[str | None] = mapped_column(Text)
    last_modified: Mapped[datetime] = mapped_column(UtcDateTime, default=utc_now, index=True)
    # Curation, beyond ORUK.
    last_reviewed: Mapped[date | None] = mapped_column(Date)
    reviewed_by_user_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    accepting_referrals: Mapped[bool] = mapped_column(Boolean, default=True)
    accepting_referrals_note: Mapped[str | None] = mapped_column(Text)
    referral_method: Mapped[ReferralMethod | None] = mapped_column(
        enum_column(ReferralMethod, "referral_method")
    )

    organization: Mapped[Organization] = relationship(back_populates="services", lazy="joined")
    service_at_locations: Mapped[list[ServiceAtLocation]] = relationship(
        back_populates="service", cascade="all, delete-orphan"
    )
    contacts: Mapped[list[Contact]] = relationship(cascade="all, delete-orphan")
    phones: Mapped[list[Phone]] = relationship(cascade="all, delete-orphan")
    schedules: Mapped[list[Schedule]] = relationship(cascade="all, delete-orphan")
    cost_options: Mapped[list[CostOption]] = relationship(cascade="all, delete-orphan")
    languages: Mapped[list[Language]] = relationship(cascade="all, delete-orphan")
    service_areas: Mapped[list[ServiceArea]] = relationship(cascade="all, delete-orphan")
    funding: Mapped[list[Funding]] = relationship(cascade="all, delete-orphan")


class Location(Base):
    __tablename__ = "directory_location"
    __table_args__ = (Index("ix_directory_location_point", "latitude", "longitude"),)

    id: Mapped[str] = mapped_column(ID, primary_key=True)
    location_type: Mapped[str] = mapped_column(String(32), default="physical")
    name: Mapped[str | None] = mapped_column(String(300))
    description: Mapped[str | None] = mapped_column(Text)
    latitude: Mapped[float | None] = mapped_column(Float)
    longitude: Mapped[float | None] = mapped_column(Float)
    external_identifier: Mapped[str | None] = mapped_column(String(100))
    external_identifier_type: Mapped[str | None] = mapped_column(String(100))
    # The 2021 LSOA the location falls in (from its postcode, else its point).
    lsoa21_code: Mapped[str | None] = mapped_column(String(9), index=True)

    addresses: Mapped[list[Address]] = relationship(cascade="all, delete-orphan")
    accessibility: Mapped[list[Accessibility]] = relationship(cascade="all, delete-orphan")


class Address(Base):
    __tablename__ = "directory_address"

    id: Mapped[str] = mapped_column(ID, primary_key=True)
    location_id: Mapped[str] = mapped_column(ForeignKey("directory_location.id"), index=True)
    attention: Mapped[str | None] = mapped_column(String(300))
    address_1: Mapped[str] = mapped_column(String(300), default="")
    address_2: Mapped[str | None] = mapped_column(String(300))
    city: Mapped[str] = mapped_column(String(100), default="")
    region: Mapped[str | None] = mapped_column(String(100))
    state_province: Mapped[str] = mapped_column(String(100), default="")
    postal_code: Mapped[str] = mapped_column(String(10), default="", index=True)
    country: Mapped[str] = mapped_column(String(2), default="GB")
    address_type: Mapped[str] = mapped_column(String(32), default="physical")


class ServiceAtLocation(Base):
    __tablename__ = "directory_service_at_location"

    id: Mapped[str] = mapped_column(ID, primary_key=True)
    service_id: Mapped[str] = mapped_column(ForeignKey("directory_service.id"), index=True)
    location_id: Mapped[str] = mapped_column(ForeignKey("directory_location.id"), index=True)
    description: Mapped[str | None] = mapped_column(Text)

    service: Mapped[Service] = relationship(back_populates="service_at_locations")
    location: Mapped[Location] = relationship(lazy="joined")


class Contact(Base):
    __tablename__ = "directory_contact"

    id: Mapped[str] = mapped_column(ID, primary_key=True)
    service_id: Mapped[str | None] = mapped_column(ForeignKey("directory_service.id"), index=True)
    organization_id: Mapped[str | None] = mapped_column(ForeignKey("directory_organization.id"))
    name: Mapped[str | None] = mapped_column(String(200))
    title: Mapped[str | None] = mapped_column(String(200))
    department: Mapped[str | None] = mapped_column(String(200))
    email: Mapped[str | None] = mapped_column(String(254))


class Phone(Base):
    __tablename__ = "directory_phone"

    id: Mapped[str] = mapped_column(ID, primary_key=True)
    service_id: Mapped[str | None] = mapped_column(ForeignKey("directory_service.id"), index=True)
    contact_id: Mapped[str | None] = mapped_column(ForeignKey("directory_contact.id"))
    location_id: Mapped[str | None] = mapped_column(ForeignKey("directory_location.id"))
    number: Mapped[str] = mapped_column(String(40))
    extension: Mapped[str | None] = mapped_column(String(20))
    type: Mapped[str | None] = mapped_column(String(20))
    description: Mapped[str | None] = mapped_column(Text)


class Schedule(Base):
    """Opening times, as iCalendar-style recurrence (freq, byday) with opening hours."""

    __tablename__ = "directory_schedule"

    id: Mapped[str] = mapped_column(ID, primary_key=True)
    service_id: Mapped[str | None] = mapped_column(ForeignKey("directory_service.id"), index=True)
    service_at_location_id: Mapped[str | None] = mapped_column(
        ForeignKey("directory_service_at_location.id")
    )
    valid_from: Mapped[date | None] = mapped_column(Date)
    valid_to: Mapped[date | None] = mapped_column(Date)
    dtstart: Mapped[date | None] = mapped_column(Date)
    freq: Mapped[str | None] = mapped_column(String(10))  # WEEKLY or MONTHLY
    interval: Mapped[int | None] = mapped_column(Integer)
    byday: Mapped[str | None] = mapped_column(String(40))  # e.g. "MO,TU,WE"
    bymonthday: Mapped[str | None] = mapped_column(String(40))
    opens_at: Mapped[str | None] = mapped_column(String(8))  # "09:00"
    closes_at: Mapped[str | None] = mapped_column(String(8))
    description: Mapped[str | None] = mapped_column(Text)
    schedule_link: Mapped[str | None] = mapped_column(String(500))
    attending_type: Mapped[str | None] = mapped_column(String(40))
    notes: Mapped[str | None] = mapped_column(Text)


class CostOption(Base):
    __tablename__ = "directory_cost_option"

    id: Mapped[str] = mapped_column(ID, primary_key=True)
    service_id: Mapped[str] = mapped_column(ForeignKey("directory_service.id"), index=True)
    valid_from: Mapped[date | None] = mapped_column(Date)
    valid_to: Mapped[date | None] = mapped_column(Date)
    option: Mapped[str | None] = mapped_column(Text)
    amount: Mapped[float | None] = mapped_column(Float)
    amount_description: Mapped[str | None] = mapped_column(Text)


class Language(Base):
    __tablename__ = "directory_language"

    id: Mapped[str] = mapped_column(ID, primary_key=True)
    service_id: Mapped[str | None] = mapped_column(ForeignKey("directory_service.id"), index=True)
    phone_id: Mapped[str | None] = mapped_column(ForeignKey("directory_phone.id"))
    name: Mapped[str | None] = mapped_column(String(100))
    code: Mapped[str | None] = mapped_column(String(10))  # ISO 639


class ServiceArea(Base):
    __tablename__ = "directory_service_area"

    id: Mapped[str] = mapped_column(ID, primary_key=True)
    service_id: Mapped[str] = mapped_column(ForeignKey("directory_service.id"), index=True)
    name: Mapped[str | None] = mapped_column(String(300))
    extent: Mapped[str | None] = mapped_column(Text)
    extent_type: Mapped[str | None] = mapped_column(String(40))
    uri: Mapped[str | None] = mapped_column(String(500))
    service_area: Mapped[str | None] = mapped_column(String(300))


class Funding(Base):
    __tablename__ = "directory_funding"

    id: Mapped[str] = mapped_column(ID, primary_key=True)
    service_id: Mapped[str] = mapped_column(ForeignKey("directory_service.id"), index=True)
    source: Mapped[str | None] = mapped_column(Text)


class Accessibility(Base):
    __tablename__ = "directory_accessibility"

    id: Mapped[str] = mapped_column(ID, primary_key=True)
    location_id: Mapped[str] = mapped_column(ForeignKey("directory_location.id"), index=True)
    description: Mapped[str | None] = mapped_column(Text)
    details: Mapped[str | None] = mapped_column(Text)
    url: Mapped[str | None] = mapped_column(String(500))


class Taxonomy(Base):
    __tablename__ = "directory_taxonomy"

    id: Mapped[str] = mapped_column(ID, primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    uri: Mapped[str | None] = mapped_column(String(500))
    version: Mapped[str | None] = mapped_column(String(40))


class TaxonomyTerm(Base):
    __tablename__ = "directory_taxonomy_term"

    id: Mapped[str] = mapped_column(ID, primary_key=True)
    code: Mapped[str | None] = mapped_column(String(100))
    name: Mapped[str] = mapped_column(String(300))
    description: Mapped[str] = mapped_column(Text, default="")
    parent_id: Mapped[str | None] = mapped_column(ID)
    taxonomy_id: Mapped[str | None] = mapped_column(ForeignKey("directory_taxonomy.id"), index=True)
    term_uri: Mapped[str | None] = mapped_column(String(500))
    # The social need (healthequity.needs code) this term means, set by a curator for
    # terms of imported taxonomies; the built-in needs taxonomy's terms map to themselves.
    need_code: Mapped[str | None] = mapped_column(String(40), index=True)

    taxonomy: Mapped[Taxonomy | None] = relationship(lazy="joined")


class Attribute(Base):
    """A taxonomy term attached to a service (or another entity): ORUK's `attribute`."""

    __tablename__ = "directory_attribute"

    id: Mapped[str] = mapped_column(ID, primary_key=True)
    link_id: Mapped[str] = mapped_column(ID, index=True)
    link_type: Mapped[str | None] = mapped_column(String(40))
    link_entity: Mapped[str] = mapped_column(String(40), default="service")
    taxonomy_term_id: Mapped[str] = mapped_column(
        ForeignKey("directory_taxonomy_term.id"), index=True
    )
    value: Mapped[str | None] = mapped_column(Text)
    label: Mapped[str | None] = mapped_column(String(300))

    taxonomy_term: Mapped[TaxonomyTerm] = relationship(lazy="joined")


class RecordChange(Base):
    """History of every change to a directory record: who, when, what (a JSON diff)."""

    __tablename__ = "directory_record_change"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    entity_type: Mapped[str] = mapped_column(String(40))
    entity_id: Mapped[str] = mapped_column(ID, index=True)
    changed_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utc_now)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    source: Mapped[str] = mapped_column(String(40))  # "curator", "import", "demo"
    change: Mapped[str] = mapped_column(Text)  # JSON: {field: [before, after]}


class DirectoryRevision(Base):
    """One row whose token changes with every write to the tables search reads (set by
    database triggers, so no write path can forget), so that a search index built from a
    token's data knows when it is out of date. A fresh random token per write, never a
    counter, so that a rolled-back write cannot make an old token come back."""

    __tablename__ = "directory_revision"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    token: Mapped[str] = mapped_column(String(64))

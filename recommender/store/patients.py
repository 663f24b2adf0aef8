"""Pseudonymous patient IDs: HMAC-SHA256 of the MRN with the installation's secret key.

The key (256 random bits from :mod:`secrets`) is created by the first migration and kept in the
database's ``settings`` table, so the same MRN maps to the same pseudonym within one installation and
to unrelated ones across installations. The MRN itself is never stored, logged or put in an audit
entry or error message.
"""

from __future__ import annotations

import hashlib
import hmac
import unicodedata

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from recommender.store.errors import StoreError, StoreUsageError
from recommender.store.models import Patient, Setting

__all__ = ["PSEUDONYM_KEY_SETTING", "find_patient", "get_or_create_patient", "normalise_mrn", "pseudonymise"]

#: ``settings`` key of the installation's HMAC key (hex).
PSEUDONYM_KEY_SETTING = "pseudonym_key"


def normalise_mrn(mrn: str) -> str:
    """Unicode NFC, surrounding whitespace removed (so ``" MRN1 "`` and ``"MRN1"`` are one patient).

    Raises
    ------
    StoreUsageError
        The MRN is empty (the message never repeats the value).
    """
    if not isinstance(mrn, str):
        raise StoreUsageError("the patient identifier must be text", field="mrn",
                              fix="pass the medical record number as a string")
    value = unicodedata.normalize("NFC", mrn).strip()
    if not value:
        raise StoreUsageError("the patient identifier is empty", field="mrn", fix="give the medical record number")
    return value


def _key(session: Session) -> bytes:
    row = session.get(Setting, PSEUDONYM_KEY_SETTING)
    if row is None:
        raise StoreError("the installation's pseudonymisation key is missing", record=f"settings {PSEUDONYM_KEY_SETTING}",
                         fix="run 'recommender admin init-db' on this database")
    return bytes.fromhex(row.value)


def pseudonymise(session: Session, mrn: str) -> str:
    """The pseudonymous ID (64 hex characters) of ``mrn`` in this installation."""
    return hmac.new(_key(session), normalise_mrn(mrn).encode("utf-8"), hashlib.sha256).hexdigest()


def find_patient(session: Session, mrn: str) -> Patient | None:
    """The patient row of ``mrn``, or ``None`` when the installation has not seen it."""
    pseudonym = pseudonymise(session, mrn)
    return session.execute(select(Patient).where(Patient.pseudonym == pseudonym)).scalar_one_or_none()


def get_or_create_patient(session: Session, mrn: str) -> Patient:
    """The patient row of ``mrn``, created (pseudonym only) when new; safe against a concurrent insert."""
    pseudonym = pseudonymise(session, mrn)
    row = session.execute(select(Patient).where(Patient.pseudonym == pseudonym)).scalar_one_or_none()
    if row is not None:
        return row
    try:
        with session.begin_nested():
            row = Patient(pseudonym=pseudonym)
            session.add(row)
    except IntegrityError:
        row = session.execute(select(Patient).where(Patient.pseudonym == pseudonym)).scalar_one()
    return row

"""The record journal moved to :mod:`medchain.store.records` (the store owns every table); these names stay
importable from here."""

from medchain.store.records import Item, Journal, JournalItem, Submission, fault_point

__all__ = ["Item", "Journal", "JournalItem", "Submission", "fault_point"]

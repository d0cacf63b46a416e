"""Retailer training and terminal programs (DESIGN §2.6): services, selectors, pages, API.

A sub-package of ``visits`` because both lean on visits: program criteria are reviewed during a
visit, and the retailer card shows trainings and programs. Models are in ``visits.models``.
"""

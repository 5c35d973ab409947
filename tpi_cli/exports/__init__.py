"""Exports for other systems: FHIR R4 for the EHR, CSV for spreadsheets."""

"""Imports from other systems into the store (beside `exports/`): FHIR Patients from an EHR."""

"""The social history: coded instruments (FHIR R4 Questionnaires shipped as data files),
the answers people give (QuestionnaireResponse), and the needs those answers show, each
with its SNOMED CT finding, level, and whether the person wants help with it."""

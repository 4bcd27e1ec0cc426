"""Study metadata: REMBI / MIFA profiles, templates, validation and SHACL shapes."""

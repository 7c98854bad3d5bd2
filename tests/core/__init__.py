"""The rules' own tests: pure functions of the core and the checklist loader, no database and no app."""

"""The pure core: answers and validation, the handover state machine, working days, the audit chain.

Nothing here imports the web layer or the database.
"""

"""Handover: structured case-transfer handovers for children's social care teams."""

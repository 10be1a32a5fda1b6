"""The division catalog: which divisions take cases, their time limits and their Open311 service categories."""

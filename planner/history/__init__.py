"""History: the pages that show every change to a plan, who made it and what it was before, and restore it."""

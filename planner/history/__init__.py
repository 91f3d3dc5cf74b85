"""History: every change to a plan, who made it and what it was before; comments; step owners."""

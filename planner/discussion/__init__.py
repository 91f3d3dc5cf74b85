"""Discussion: comments on steps and items, step owners and due dates, and what changed
since each member last opened a step."""

"""The live workshop: a facilitator runs a session on a plan with a room of people on their phones.

`models` (the tables), `rules` (plain functions: codes, voting, the timer, who sees what),
`operations` (every write), `state` (the state as JSON, cached per revision), `live` (the event
stream and its watcher), `access` (who may see and do what), `export` (CSV and Markdown),
`routes` (one blueprint, filled by what its routes are for: the console, guests, the projector,
the live channel; `routes.common` holds what they share) and `forms`. docs/workshop.md
explains the design.
"""

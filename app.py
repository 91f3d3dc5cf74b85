"""Entry point: `flask --app app run`, or `gunicorn app:app`; the workshop's stream server runs
`gunicorn -c gunicorn.streams.conf.py app:streams` (docs/workshop.md)."""

from planner import create_app
from planner.serving import StreamsOnly

app = create_app()
streams = StreamsOnly(app)

"""The plan document: the whole plan as HTML for the screen and print, and as PDF.

`content` decides what the document says, `render` turns it into HTML and PDF, `fetcher`
keeps WeasyPrint away from anything but the app's static assets, `cache` keeps each PDF on disk
per plan revision, `prerender` draws it there before anyone asks, and `routes` serves them.
"""

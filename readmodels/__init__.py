"""The read models, as the projector and the query API share them: their shape and where they
stand. The projector writes them, the query API reads them; neither imports the other.

    schema   tables, filters, index shapes and Redis key names, derived from the catalogue
    status   each projection's checkpoint, lag and rebuild, and what stalls the feed
"""

"""The platform's programs: the `orders` command (`cli`), the whole platform in one process tree
(`up`), the API servers (`serve`) and the demo shop (`demo`). Nothing imports this package; it
imports the services it runs."""

"""The platform's shared parts: settings, embedded dev servers, logging and the `orders` CLI."""

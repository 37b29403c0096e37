"""What the tests share, as plain modules: the demo county and its people's actions (world),
the pages over HTTP and in a browser (web, phone), the bot's helpers (bot), the `fangfan`
command (cli) and production processes (production). Fixtures live in the conftest files
and are built from these; tests import helpers from here, never from a conftest."""

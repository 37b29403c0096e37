"""The wiring: configuration, database engine, Flask app factory, worker and the `fangfan` CLI.

It imports the four packages (bot, approvals, workflows, notifications); none imports it.
"""

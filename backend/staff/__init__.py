"""The staff workspace: accounts, roles, sessions, CSRF, the audit log, and the server-rendered case pages."""

"""The staff workspace's web pages, rendered on the server: sign-in, accounts, the audit log, cases, analytics and
reports not recorded. Pages depend on the domain packages (staff, audit, cases, analytics, dead_letters); none of
those imports this package."""

"""Staff accounts, roles and what each may do, sign-in sessions with their CSRF tokens, and the sign-in throttle."""

"""Cases: complaints, compliments and service requests, their storage, rules and web API."""

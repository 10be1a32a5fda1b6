"""Analytics of the staff workspace: volumes, timeliness, compliments per team, key themes, and charts."""

"""Port managers: one listening port per port string, many usernames on each."""

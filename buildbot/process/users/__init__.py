"""Users of the master: `users` (helpers on the users table), `manager` (c['user_managers'])."""

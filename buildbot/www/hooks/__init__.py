"""Change hook dialects (`c['www']['change_hook_dialects']`)."""

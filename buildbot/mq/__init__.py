"""mq package."""

"""Render a project/builder description to HTML according to its declared format."""

from __future__ import annotations


def render_description(description: str, format: str | None) -> str | None:
    """None without a format; HTML for "markdown" (needs the `markdown` package)."""
    if format is None:
        return None
    if format == "markdown":
        import markdown
        return str(markdown.markdown(description))
    raise RuntimeError(f"Unsupported description format {format}")

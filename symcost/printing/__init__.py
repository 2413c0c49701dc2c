"""Everything that turns an expression or a report into text: numbers, the plain and LaTeX printers,
view models, Jinja2 templates (LaTeX, Markdown, HTML, text), the JSON object and the Jupyter hooks."""

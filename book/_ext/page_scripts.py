"""Two fixes to the scripts of every HTML page, each a console error in the browser otherwise.

- Jupyter Book 1's sphinx-thebe (and sphinx-togglebutton) register their inline configuration
  scripts twice, once with no file name and once with an empty one; thebe's second copy fails
  (``const THEBE_JS_URL`` declared again). Each script is kept once.
- On a first visit nothing is stored for the colour mode, and the theme logs "invalid theme
  mode" before falling back to "auto". The mode starts as "auto" instead.
"""

DEFAULT_MODE = "if (!document.documentElement.dataset.mode) { document.documentElement.dataset.mode = 'auto'; }"


def _dedupe(app, pagename, templatename, context, doctree):
    seen, unique = set(), []
    for script in context.get("script_files", []):
        attributes = getattr(script, "attributes", {})
        key = (getattr(script, "filename", script) or "", repr(sorted(attributes.items())))
        if key not in seen:
            seen.add(key)
            unique.append(script)
    context["script_files"] = unique


def setup(app):
    app.add_js_file(None, body=DEFAULT_MODE, priority=1)
    app.connect("html-page-context", _dedupe)
    return {"parallel_read_safe": True, "parallel_write_safe": True}

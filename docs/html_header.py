#!/usr/bin/env python3
"""Writes the site's HTML header: Doxygen's own default, plus the doxygen-awesome extensions.

    html_header.py DEFAULT_HEADER OUT_HEADER

DEFAULT_HEADER is what `doxygen -w html` writes for this Doxyfile (so it always matches the
installed Doxygen). Before </head> this adds the theme's scripts, which Doxyfile's
HTML_EXTRA_FILES copies next to the pages: a dark-mode toggle, a copy button on code blocks
(students copy commands from the handouts), a link on each heading, and a table of contents
that follows the reader down a long walkthrough.
"""
import sys

EXTENSIONS = ["darkmode-toggle", "fragment-copy-button", "paragraph-link", "interactive-toc"]
CLASSES = ["DarkModeToggle", "FragmentCopyButton", "ParagraphLink", "InteractiveToc"]


def main():
    if len(sys.argv) != 3:
        print("usage: html_header.py DEFAULT_HEADER OUT_HEADER", file=sys.stderr)
        return 2
    default, out = sys.argv[1:]
    with open(default, encoding="utf-8") as f:
        header = f.read()
    if header.count("</head>") != 1:
        print(f"html_header.py: {default} has no single </head>: not a Doxygen header", file=sys.stderr)
        return 1
    scripts = "".join(f'<script type="text/javascript" src="$relpath^doxygen-awesome-{name}.js"></script>\n'
                      for name in EXTENSIONS)
    scripts += '<script type="text/javascript">\n'
    scripts += "".join(f"  DoxygenAwesome{name}.init()\n" for name in CLASSES)
    scripts += "</script>\n"
    with open(out, "w", encoding="utf-8") as f:
        f.write(header.replace("</head>", scripts + "</head>"))
    return 0


if __name__ == "__main__":
    sys.exit(main())

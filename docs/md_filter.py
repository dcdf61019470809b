#!/usr/bin/env python3
"""Doxygen input filter for HeapLab's Markdown: READMEs written for GitHub become site pages.

    md_filter.py --root SOURCE_DIR FILE.md      (Doxygen runs it; the result goes to stdout)

The handouts (labs/NN-name/README.md) and the other READMEs are read on GitHub and in a text
editor as well as on the site, so they are written in plain GitHub Markdown. Doxygen alone gets
three things wrong with them, which this filter fixes without adding or removing a line (so
Doxygen's warnings keep pointing at the right line of the real file):

1. Page names. A page's name comes from its first heading's `{#label}`; without one Doxygen
   makes up `md_labs_01_bump_README`. The filter gives a README the label of its folder
   (labs/01-bump/README.md -> `labs_01_bump`, grader/README.md -> `grader`) and any other page
   the label of its file name (docs/pages/heap-memory.md -> `heap_memory`), unless the page
   names itself.
2. Section anchors. GitHub gives every heading an anchor (`## Two passes` -> `#two-passes`);
   Doxygen gives them none that a link can name. The filter labels every heading
   `<page label>_<GitHub anchor>` (`labs_01_bump_two-passes`), and rewrites `#two-passes` and
   `other/README.md#two-passes` links to those labels.
3. Links between files. A link to another page (`../../grader/README.md`) becomes `@ref grader`;
   a link to a public header becomes a link to its page; an image link keeps only the file
   name, which Doxygen finds on IMAGE_PATH; a link to any other file of the repository (a
   source file, a folder) has no page on the site, so only its text is kept.
4. A table of contents. A handout is long; the blank line under a README's title becomes
   `[TOC]`, which the theme shows as a contents list that follows the reader down the page.
5. Code in headings. Doxygen 1.9.4 writes a heading's `code` into the table of contents and
   the navigation tree as literal `<tt>` tags, so the filter drops the backticks of headings.
6. Bold text. Doxygen 1.9.4 does not see `**` as bold next to a code span or a quote
   (`**`mem_sbrk`'s failure**`), and then garbles the code spans that follow on the line; the
   filter writes bold as `<b>...</b>`, which it always understands.
7. Apostrophes in code. Doxygen 1.9.4 reads `` `text' `` as a typographic quotation, so a code
   span holding an apostrophe (`'\0'`, `--gtest_filter='Suite.*'`) comes out mangled, and the
   rest of the line with it; the filter writes such a span with double backticks, which it
   reads as code.
8. Terminal drawings. An ASCII diagram that a figure replaces is a fenced block without a
   language (or `text`) followed by the image line of a figure in a `figures/` folder
   (docs/figures), with only blank lines between. The terminal reader needs the ASCII, GitHub
   shows both, the site shows the figure alone: the filter blanks the block's lines.

A link to something that does not exist is left alone: Doxygen or the browser test then reports
it, naming the page.
"""

import argparse
import os
import re
import sys

HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")
EXPLICIT_ID = re.compile(r"\{#([A-Za-z0-9_.:-]+)\}\s*$")
FENCE = re.compile(r"^\s{0,3}(```|~~~)")
CODE_SPAN = re.compile(r"(`+)(?:.+?)\1")
# [text](target) or ![alt](target); text may hold one level of brackets ([`a[0]`](x)).
LINK = re.compile(r"(!?)\[((?:[^\[\]]|\[[^\[\]]*\])*)\]\(\s*([^()\s]+)(\s+\"[^\"]*\")?\s*\)")
PAGE_COMMAND = re.compile(r"^\s*[\\@](page|mainpage)\b\s*(\S*)")
PLAIN_FENCE = re.compile(r"^(```|~~~)(text)?\s*$")
LIST_ITEM = re.compile(r"^\s*([-*+]|\d+\.)\s")
FIGURE_LINE = re.compile(r"^!\[[^\]]*\]\((?:[^()\s]*/)?figures/[^()\s/]+\)\s*$")
IMAGE_SUFFIXES = (".svg", ".png", ".jpg", ".jpeg", ".gif")
HEADER_SUFFIXES = (".h", ".hpp")


def github_slug(text):
    """The anchor GitHub gives a heading: lower case, punctuation dropped, spaces to dashes."""
    text = re.sub(r"`|\*\*|__|\[|\]\([^)]*\)", "", text)
    text = text.strip().lower()
    text = re.sub(r"[^\w\- ]", "", text)
    return text.replace(" ", "-")


def read_lines(path):
    with open(path, encoding="utf-8") as f:
        return f.read().split("\n")


def default_label(root, path):
    """labs/01-bump/README.md -> labs_01_bump; docs/pages/heap-memory.md -> heap_memory."""
    rel = os.path.relpath(path, root)
    folder, name = os.path.split(rel)
    if name.lower() == "readme.md":
        base = folder if folder else "readme"
    else:
        base = os.path.splitext(name)[0]
    return re.sub(r"[^A-Za-z0-9]+", "_", base).strip("_")


def page_label(root, path, lines):
    """The name Doxygen gives the page: its own `{#label}`/\\page name, or default_label()."""
    for line in lines:
        if not line.strip():
            continue
        command = PAGE_COMMAND.match(line)
        if command:
            return "index" if command.group(1) == "mainpage" else command.group(2)
        heading = HEADING.match(line)
        if heading and len(heading.group(1)) == 1:
            explicit = EXPLICIT_ID.search(heading.group(2))
            if explicit:
                return explicit.group(1)
        break
    return default_label(root, path)


class Page:
    """One Markdown file: its label and the anchor of each of its headings."""

    def __init__(self, root, path):
        self.path = os.path.abspath(path)
        self.lines = read_lines(self.path)
        self.label = page_label(root, self.path, self.lines)
        self.anchors = {}          # GitHub slug -> Doxygen label
        self.heading_ids = {}      # line number -> label to append
        self.title_line = None     # line number of the page title, when it is a `#` heading
        self.is_readme = os.path.basename(self.path).lower() == "readme.md"
        self._scan()

    def _scan(self):
        seen = {}
        in_fence = False
        first_content = True
        for number, line in enumerate(self.lines):
            if FENCE.match(line):
                in_fence = not in_fence
                first_content = False
                continue
            if in_fence:
                continue
            heading = HEADING.match(line)
            is_title = first_content and heading is not None and len(heading.group(1)) == 1
            if line.strip():
                first_content = False
            if not heading:
                continue
            text = heading.group(2)
            explicit = EXPLICIT_ID.search(text)
            slug = github_slug(EXPLICIT_ID.sub("", text))
            count = seen.get(slug, 0)
            seen[slug] = count + 1
            if count:
                slug = f"{slug}-{count}"
            if explicit:
                if is_title:
                    self.title_line = number
                self.anchors[slug] = explicit.group(1)
            elif is_title:
                self.title_line = number
                self.anchors[slug] = self.label
                self.heading_ids[number] = self.label
            else:
                label = f"{self.label}_{slug}"
                self.anchors[slug] = label
                self.heading_ids[number] = label


class Filter:
    def __init__(self, root, page):
        self.root = os.path.abspath(root)
        self.page = page
        self.pages = {page.path: page}

    def other_page(self, path):
        if path not in self.pages:
            self.pages[path] = Page(self.root, path)
        return self.pages[path]

    def link_target(self, is_image, target, number):
        """The link's new target, or None to keep only its text."""
        if re.match(r"^[a-zA-Z][a-zA-Z0-9+.-]*:", target) or target.startswith(("@", "\\")):
            return target                                   # a URL, or already a Doxygen ref
        path, _, fragment = target.partition("#")
        if not path:                                        # #section on this page
            return "#" + self.page.anchors.get(fragment, fragment)
        if is_image and "/" not in path:
            return target                                   # a bare name: Doxygen looks on IMAGE_PATH
        resolved = os.path.normpath(os.path.join(os.path.dirname(self.page.path), path))
        if not os.path.exists(resolved):
            # Said here in words; Doxygen's own error for it is cryptic ("unexpected token").
            print(f"{self.page.path}:{number + 1}: error: the link target '{target}' does not exist",
                  file=sys.stderr)
            return target                                   # broken: Doxygen or the browser test fails
        if is_image or resolved.lower().endswith(IMAGE_SUFFIXES):
            return os.path.basename(resolved)
        if resolved.lower().endswith(".md"):
            other = self.other_page(resolved)
            label = other.anchors.get(fragment, fragment) if fragment else other.label
            return "@ref " + label
        inside_root = not os.path.relpath(resolved, self.root).startswith("..")
        if resolved.endswith(HEADER_SUFFIXES) and inside_root:
            return "@ref " + os.path.relpath(resolved, self.root)
        return None

    def rewrite_links(self, text, number):
        def one(match):
            is_image, body, target, title = match.group(1), match.group(2), match.group(3), match.group(4) or ""
            new_target = self.link_target(bool(is_image), target, number)
            if new_target is None:
                return body
            if new_target.startswith("@ref "):
                return f"{is_image}[{body}]({new_target})"
            return f"{is_image}[{body}]({new_target}{title})"

        # Code spans are left as they are: `[i](j)` in code is not a link.
        out, last = [], 0
        for span in CODE_SPAN.finditer(text):
            out.append(LINK.sub(one, text[last:span.start()]))
            out.append(span.group(0))
            last = span.end()
        out.append(LINK.sub(one, text[last:]))
        return "".join(out)

    def drawings_replaced_by_figures(self):
        """Line numbers of the plain fenced blocks (fences included) that an image follows."""
        lines, blank, number = self.page.lines, set(), 0
        while number < len(lines):
            if not FENCE.match(lines[number]):
                number += 1
                continue
            start, plain = number, PLAIN_FENCE.match(lines[number]) is not None
            number += 1
            while number < len(lines) and not FENCE.match(lines[number]):
                number += 1
            after = number + 1
            while after < len(lines) and not lines[after].strip():
                after += 1
            if plain and number < len(lines) and after < len(lines) and FIGURE_LINE.match(lines[after]):
                blank.update(range(start, number + 1))
            number += 1
        return blank

    @staticmethod
    def quote_safe_code(line):
        """A single-backtick code span holding an apostrophe becomes a double-backtick one."""
        def one(span):
            text = span.group(0)
            if not text.startswith("``") and "'" in text:
                return "`` " + text[1:-1] + " ``"
            return text
        return CODE_SPAN.sub(one, line)

    @staticmethod
    def split_code(line):
        """The line as (is_code, text) pieces: code spans and the text between them."""
        pieces, last = [], 0
        for span in CODE_SPAN.finditer(line):
            pieces.append((False, line[last:span.start()]))
            pieces.append((True, span.group(0)))
            last = span.end()
        pieces.append((False, line[last:]))
        return pieces

    def html_bold(self, lines):
        """`**text**` outside code spans becomes `<b>text</b>`, paragraph by paragraph (bold may
        run over a line break; a list item is a paragraph), when the paragraph's markers pair up; otherwise (a literal `**`,
        as in `xoshiro256**`) the paragraph is left alone."""
        def markers(line):
            return sum(text.count("**") for code, text in self.split_code(line) if not code)

        def convert(paragraph):
            if sum(markers(line) for line in paragraph) % 2:
                return paragraph
            out, opening = [], True
            for line in paragraph:
                pieces = []
                for code, text in self.split_code(line):
                    if not code:
                        parts = text.split("**")
                        text = parts[0]
                        for part in parts[1:]:
                            text += ("<b>" if opening else "</b>") + part
                            opening = not opening
                    pieces.append(text)
                out.append("".join(pieces))
            return out

        result, paragraph = [], []
        for line, is_text in lines:
            if is_text and LIST_ITEM.match(line):  # an item starts a paragraph of its own
                result += convert(paragraph)
                paragraph = []
            if not is_text or not line.strip() or HEADING.match(line):
                result += convert(paragraph)
                paragraph = []
                result.append(line)
            else:
                paragraph.append(line)
        return result + convert(paragraph)

    def run(self):
        out = []
        in_fence = False
        blank = self.drawings_replaced_by_figures()
        for number, line in enumerate(self.page.lines):  # out: (line, is Markdown text)
            if number in blank:
                out.append(("", False))
                continue
            if FENCE.match(line):
                in_fence = not in_fence
                out.append((line, False))
                continue
            if in_fence:
                out.append((line, False))
                continue
            if (self.page.is_readme and self.page.title_line is not None
                    and number == self.page.title_line + 1 and not line.strip()):
                out.append(("[TOC]", False))
                continue
            line = self.quote_safe_code(self.rewrite_links(line, number))
            if HEADING.match(line):
                line = line.replace("`", "")
            label = self.page.heading_ids.get(number)
            if label is not None:
                line = line.rstrip() + " {#" + label + "}"
            out.append((line, True))
        return "\n".join(self.html_bold(out))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--root", required=True, help="the repository's top folder")
    parser.add_argument("file", help="the Markdown file Doxygen is reading")
    args = parser.parse_args()
    try:
        page = Page(args.root, args.file)
        sys.stdout.write(Filter(args.root, page).run())
    except (OSError, UnicodeDecodeError) as error:
        print(f"md_filter.py: {args.file}: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())

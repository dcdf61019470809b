#!/usr/bin/env python3
"""Tests of docs/md_filter.py: what a README written for GitHub becomes for Doxygen.

Each test writes a small repository into a temporary folder, runs the filter the way Doxygen
does (`md_filter.py --root ROOT FILE`), and compares the output line by line.
"""
import os
import subprocess
import sys
import tempfile
import textwrap
import unittest

FILTER = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "md_filter.py")


class MdFilterTest(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        self.root = self.tmp.name
        self.write("grader/README.md", "# The grader\n\n## Grading a class\n\ntext\n")
        self.write("common/include/heaplab/mm.h", "/** @file */\n")
        self.write("labs/01-bump/mm.cpp", "// code\n")
        self.write("docs/figures/heap.svg", "<svg/>\n")

    def tearDown(self):
        self.tmp.cleanup()

    def write(self, path, text):
        full = os.path.join(self.root, path)
        os.makedirs(os.path.dirname(full), exist_ok=True)
        with open(full, "w", encoding="utf-8") as f:
            f.write(textwrap.dedent(text))
        return full

    def run_filter(self, path):
        done = subprocess.run([sys.executable, FILTER, "--root", self.root, os.path.join(self.root, path)],
                              capture_output=True, text=True, check=True)
        return done.stdout, done.stderr

    def test_readme_gets_its_folder_as_label_a_toc_and_heading_anchors(self):
        self.write("labs/01-bump/README.md", """\
            # Lab 01 — A bump allocator

            Intro.

            ## What you will learn
            ### Step 1: `mm_init`
            ## What you will learn
            """)
        out, _ = self.run_filter("labs/01-bump/README.md")
        self.assertEqual(out.split("\n"), [
            "# Lab 01 — A bump allocator {#labs_01_bump}",
            "[TOC]",
            "Intro.",
            "",
            "## What you will learn {#labs_01_bump_what-you-will-learn}",
            "### Step 1: mm_init {#labs_01_bump_step-1-mm_init}",  # Doxygen shows <tt> in the TOC
            "## What you will learn {#labs_01_bump_what-you-will-learn-1}",
            "",
        ])

    def test_links_become_site_links(self):
        self.write("labs/01-bump/README.md", """\
            # Lab 01

            See [the grader](../../grader/README.md), [a class](../../grader/README.md#grading-a-class),
            [below](#notes), [mm.h](../../common/include/heaplab/mm.h), [your file](mm.cpp),
            ![the heap](../../docs/figures/heap.svg) and [the web](https://example.org/x.md).

            ## Notes
            """)
        out, err = self.run_filter("labs/01-bump/README.md")
        lines = out.split("\n")
        self.assertEqual(lines[2], "See [the grader](@ref grader), [a class](@ref grader_grading-a-class),")
        self.assertEqual(lines[3], "[below](#labs_01_bump_notes), [mm.h](@ref common/include/heaplab/mm.h), your file,")
        self.assertEqual(lines[4], "![the heap](heap.svg) and [the web](https://example.org/x.md).")
        self.assertEqual(err, "")

    def test_code_is_left_alone(self):
        self.write("traces/README.md", """\
            # Traces

            Write `[x](../grader/README.md)` to link.

            ```
            # not a heading
            [not](../grader/README.md)
            ```
            """)
        out, _ = self.run_filter("traces/README.md")
        lines = out.split("\n")
        self.assertEqual(lines[2], "Write `[x](../grader/README.md)` to link.")
        self.assertEqual(lines[5:7], ["# not a heading", "[not](../grader/README.md)"])

    def test_a_page_that_names_itself_keeps_its_name(self):
        self.write("docs/pages/heap-memory.md", "# Heap memory {#heap}\n\n## The break\n")
        self.write("docs/pages/other.md", "# Other\n\nSee [the break](heap-memory.md#the-break).\n")
        out, _ = self.run_filter("docs/pages/heap-memory.md")
        self.assertEqual(out.split("\n")[:3], ["# Heap memory {#heap}", "", "## The break {#heap_the-break}"])
        out, _ = self.run_filter("docs/pages/other.md")
        self.assertEqual(out.split("\n")[0], "# Other {#other}")
        self.assertEqual(out.split("\n")[2], "See [the break](@ref heap_the-break).")

    def test_a_missing_target_is_named_and_left_for_the_checks(self):
        self.write("bench/README.md", "# Bench\n\nSee [gone](../nowhere/README.md).\n")
        out, err = self.run_filter("bench/README.md")
        self.assertEqual(out.split("\n")[2], "See [gone](../nowhere/README.md).")
        self.assertIn("bench/README.md:3: error: the link target '../nowhere/README.md' does not exist", err)

    def test_bold_becomes_html_and_code_with_an_apostrophe_gets_double_backticks(self):
        self.write("labs/00-heap-basics/README.md", """\
            # Lab 00

            - **`p = NULL; free(p);`** — the wrong order; **no room for
              the `'\\0'`** at the end.
            - The xoshiro256** generator and `a ** b` stay as they are.
            """)
        out, _ = self.run_filter("labs/00-heap-basics/README.md")
        lines = out.split("\n")
        self.assertEqual(lines[2], "- <b>`p = NULL; free(p);`</b> — the wrong order; <b>no room for")
        self.assertEqual(lines[3], "  the `` '\\0' ``</b> at the end.")
        self.assertEqual(lines[4], "- The xoshiro256** generator and `a ** b` stay as they are.")

    def test_an_ascii_drawing_before_its_figure_is_blanked_for_the_site(self):
        self.write("labs/02-free-list/README.md", """\
            # Lab 02

            ```
            | A | f |
            ```

            ![the heap](../../docs/figures/heap.svg)

            ```sh
            make test
            ```

            ![the heap](../../docs/figures/heap.svg)

            ```
            a table
            ```
            ![a chart](results/chart.svg)
            """)
        self.write("labs/02-free-list/results/chart.svg", "<svg/>\n")
        out, _ = self.run_filter("labs/02-free-list/README.md")
        lines = out.split("\n")
        self.assertEqual(lines[2:7], ["", "", "", "", "![the heap](heap.svg)"])
        self.assertEqual(lines[8:11], ["```sh", "make test", "```"], "a shell block is not a drawing")
        self.assertEqual(lines[14:17], ["```", "a table", "```"], "only a docs/figures figure replaces a block")

    def test_line_count_is_kept(self):
        text = "# T\n\n## A\n```\nx\n```\n[l](../grader/README.md)\n"
        self.write("bench/README.md", text)
        out, _ = self.run_filter("bench/README.md")
        self.assertEqual(len(out.split("\n")), len(text.split("\n")))


if __name__ == "__main__":
    unittest.main()

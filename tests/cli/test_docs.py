"""docs/architecture.md's worked example names files and the text each must hold: check it.

Run by ctest as: python3 test_docs.py SOURCE_DIR. Standard library only.
A rename or a move that makes the recipe wrong (a file that no longer exists, an anchor
that is no longer there) fails here, so the recipe stays the one a contributor can follow.
"""
import os
import re
import sys
import unittest

SRC = None


def recipe_rows(text):
    """(file, [anchors]) of each row of the table in the 'Worked example' section."""
    section = text.split("## Worked example", 1)[1].split("\n## ", 1)[0]
    rows = []
    for line in section.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) != 3 or not cells[0].isdigit():
            continue
        files = re.findall(r"`([^`]+)`", cells[1])
        anchors = re.findall(r"`([^`]+)`", cells[2])
        rows.append((files[0] if files else "", anchors))
    return section, rows


class Recipe(unittest.TestCase):
    def test_every_named_file_exists_and_holds_its_anchors(self):
        with open(os.path.join(SRC, "docs", "architecture.md"), encoding="utf-8") as f:
            section, rows = recipe_rows(f.read())
        self.assertGreaterEqual(len(rows), 4, "the recipe's table was not found")
        for path, anchors in rows:
            with self.subTest(path=path):
                full = os.path.join(SRC, path)
                self.assertTrue(os.path.isfile(full), f"{path} named by the recipe is missing")
                self.assertTrue(anchors, f"{path}: no anchor text given")
                with open(full, encoding="utf-8") as f:
                    body = f.read()
                for a in anchors:
                    self.assertTrue(a in body, f"{path} no longer holds `{a}`")

    def test_the_count_in_the_text_is_the_table_rows(self):
        words = {"four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8}
        with open(os.path.join(SRC, "docs", "architecture.md"), encoding="utf-8") as f:
            section, rows = recipe_rows(f.read())
        m = re.search(r"\*\*[^*]*?(\w+) source files\*\*", section)
        self.assertIsNotNone(m, "the recipe no longer says how many source files it touches")
        self.assertEqual(words.get(m.group(1)), len(rows))


if __name__ == "__main__":
    SRC = sys.argv.pop(1)
    unittest.main()

// SPDX-License-Identifier: Apache-2.0
// The one CSV/manifest reader and writer (internal/csv.hpp, evaluation/manifest_csv.hpp): what the
// writers write, the readers read back field for field, and every bad table gets one error that
// names the source and the line.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "evaluation/manifest_csv.hpp"
#include "internal/csv.hpp"
#include "palmvein/error.hpp"

namespace palmvein::internal {
namespace {

std::string error_of(std::string_view text, std::string_view column = "a") {
  try {
    CsvTableReader table(text, "t.csv", "a,b");
    table.column(column);
    std::vector<std::string> row;
    while (table.next(row)) {
    }
  } catch (const FormatError& e) {
    return e.what();
  }
  return "(no error)";
}

TEST(CsvTable, WhatTheWriterWritesReadsBackIntact) {
  const std::vector<std::string> awkward = {"plain", "a,b", "say \"hi\"", "two\nlines", "cr\rhere", ""};
  CsvTableWriter writer({"x", "y", "z", "u", "v", "w"});
  writer.row(awkward);
  writer.row({"1", "2", "3", "4", "5", "6"});
  EXPECT_EQ(writer.text(), "x,y,z,u,v,w\nplain,\"a,b\",\"say \"\"hi\"\"\",\"two\nlines\",\"cr\rhere\",\n1,2,3,4,5,6\n");
  CsvTableReader table(writer.text(), "t.csv", "x,...");
  EXPECT_EQ(table.header(), (std::vector<std::string>{"x", "y", "z", "u", "v", "w"}));
  std::vector<std::string> row;
  ASSERT_TRUE(table.next(row));
  EXPECT_EQ(row, awkward);
  ASSERT_TRUE(table.next(row));
  EXPECT_EQ(table.at(), "t.csv line 4");  // the quoted line break counts as a line
  EXPECT_FALSE(table.next(row));
  EXPECT_THROW(writer.row({"too", "few"}), std::logic_error);
}

TEST(CsvTable, FindsColumnsByNameSkipsBlankLinesAndTheBom) {
  CsvTableReader table("\xEF\xBB\xBF" "b,a\r\n\r\n2,1\r\n", "t.csv", "a,b");
  EXPECT_EQ(table.column("a"), 1u);
  EXPECT_FALSE(table.find("c"));
  std::vector<std::string> row;
  ASSERT_TRUE(table.next(row));
  EXPECT_EQ(row, (std::vector<std::string>{"2", "1"}));
  EXPECT_EQ(table.at(), "t.csv line 3");
}

TEST(CsvTable, BadTablesGiveOneErrorWithSourceAndLine) {
  EXPECT_EQ(error_of(""), "t.csv: empty file (expected a header a,b)");
  EXPECT_EQ(error_of("a,b\n1,2\n", "c"), "t.csv: missing column 'c' (expected a header a,b)");
  EXPECT_EQ(error_of("a,b\n1,2\n1\n"), "t.csv line 3: 1 fields, the header has 2");
  EXPECT_EQ(error_of("a,b\n1,\"2\n"), "t.csv line 2: unterminated quoted field");
  EXPECT_EQ(error_of("a,b\n1,2\n"), "(no error)");
}

TEST(ManifestCsv, WriterOutputIsAManifestTheReaderAccepts) {
  ManifestWriter writer({"path", "subject", "hand", "session", "kind", "note"});
  writer.row({"a.png", "001", manifest_hand_text(Hand::Left), "1", manifest_kind_text(ImageKind::FullHand), "x,y"});
  writer.row({"b c.png", "p,q", manifest_hand_text(Hand::Unknown), "2", manifest_kind_text(ImageKind::Roi), ""});
  EXPECT_EQ(writer.text(), "path,subject,hand,session,kind,note\na.png,001,L,1,full-hand,\"x,y\"\nb c.png,\"p,q\",unknown,2,roi,\n");
  const Manifest m = parse_manifest(writer.text(), "manifest 'm.csv'", ".");
  ASSERT_EQ(m.size(), 2u);
  EXPECT_EQ(m.entries()[1].subject, "p,q");
  EXPECT_EQ(m.entries()[1].hand, Hand::Unknown);
  EXPECT_EQ(m.entries()[0].kind, ImageKind::FullHand);
  EXPECT_THROW(ManifestWriter({"path", "subject", "kind"}), std::logic_error);  // no hand column
}

TEST(ManifestCsv, HandSpelling) {
  EXPECT_EQ(manifest_hand_text(Hand::Left), "L");
  EXPECT_EQ(manifest_hand_text(Hand::Right), "R");
  EXPECT_EQ(manifest_hand_text(Hand::Unknown), "unknown");
  for (const Hand h : {Hand::Left, Hand::Right, Hand::Unknown}) EXPECT_EQ(parse_hand(manifest_hand_text(h)), h);
}

}  // namespace
}  // namespace palmvein::internal

import { assertEquals } from "./assert.ts";
import { baseName, dirName, isAbsolutePath, joinPath } from "../lib/paths.ts";

Deno.test("paths: state files land inside the state directory, whatever its slashes", () => {
  assertEquals(
    joinPath("/home/op/.molecule-workspace", ".mcp_inbox_journal"),
    "/home/op/.molecule-workspace/.mcp_inbox_journal",
  );
  assertEquals(joinPath("/configs/", "/.auth_token"), "/configs/.auth_token");
  assertEquals(joinPath("rel", "file"), "rel/file");
});

Deno.test("paths: attachment names and parent folders are read like the shell does", () => {
  assertEquals(baseName("/tmp/report.pdf"), "report.pdf");
  assertEquals(baseName("/tmp/dir/"), "dir");
  assertEquals(dirName("/tmp/report.pdf"), "/tmp");
  assertEquals(dirName("/report.pdf"), "/");
  assertEquals(dirName("report.pdf"), ".");
  assertEquals([isAbsolutePath("/a"), isAbsolutePath("a/b"), isAbsolutePath("~/a")], [
    true,
    false,
    false,
  ]);
});

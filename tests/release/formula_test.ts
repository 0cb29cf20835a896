/**
 * The Homebrew formula rendered from a release's SHA256SUMS. Structure is always checked; when
 * `ruby` is on the machine the output is also syntax-checked with `ruby -c`.
 */
import {
  DEFAULT_BASE_URL,
  parseSha256Sums,
  RELEASE_TARGETS,
  renderFormula,
  tarballName,
} from "../../release/formula.ts";
import {
  assert,
  assertEquals,
  assertMatch,
  assertStringIncludes,
  assertThrows,
} from "../assert.ts";
import { withTempDir } from "../fakes/temp_dir.ts";

const VERSION = "1.2.3";

/** One distinct digest per target, so a swapped pair cannot pass. */
function digestFor(index: number): string {
  return (index + 1).toString(16).repeat(64);
}

function sampleSums(version = VERSION, targets: readonly string[] = RELEASE_TARGETS): string {
  return targets
    .map((target, i) => `${digestFor(i)}  molecule-mcp-${version}-${target}.tar.gz`)
    .join("\n") + "\n";
}

/** The `do … end` block that follows `header`, up to the line that closes it. */
function blockAfter(text: string, header: string): string {
  const start = text.indexOf(header);
  assert(start >= 0, `missing ${header}`);
  const indent = header.match(/^ */)?.[0] ?? "";
  const end = text.indexOf(`\n${indent}end\n`, start);
  return text.slice(start, end);
}

Deno.test("formula: class, version and one url + sha256 per target, matching the sums", () => {
  const rb = renderFormula({
    version: VERSION,
    baseUrl: DEFAULT_BASE_URL,
    sha256Sums: sampleSums(),
  });
  assertMatch(rb, /^class MoleculeMcp < Formula$/m);
  assertMatch(rb, /^ {2}version "1\.2\.3"$/m);
  assertMatch(rb, /^ {2}homepage "https:\/\/github\.com\/molecule-ai\/molecule-mcp"$/m);
  assertEquals(rb.match(/^\s+url "/gm)?.length, 4);
  assertEquals(rb.match(/^\s+sha256 "/gm)?.length, 4);

  const blocks: Record<string, string> = {
    "aarch64-apple-darwin": blockAfter(blockAfter(rb, "  on_macos do"), "    on_arm do"),
    "x86_64-apple-darwin": blockAfter(blockAfter(rb, "  on_macos do"), "    on_intel do"),
    "aarch64-unknown-linux-gnu": blockAfter(blockAfter(rb, "  on_linux do"), "    on_arm do"),
    "x86_64-unknown-linux-gnu": blockAfter(blockAfter(rb, "  on_linux do"), "    on_intel do"),
  };
  for (const [i, target] of RELEASE_TARGETS.entries()) {
    const block = blocks[target] ?? "";
    assertStringIncludes(
      block,
      `url "${DEFAULT_BASE_URL}/v${VERSION}/molecule-mcp-${VERSION}-${target}.tar.gz"`,
    );
    assertStringIncludes(block, `sha256 "${digestFor(i)}"`);
  }
});

Deno.test("formula: installs the binary and tests that it reports the version", () => {
  const rb = renderFormula({
    version: VERSION,
    baseUrl: DEFAULT_BASE_URL,
    sha256Sums: sampleSums(),
  });
  assertStringIncludes(blockAfter(rb, "  def install"), 'bin.install "molecule-mcp"');
  const testBlock = blockAfter(rb, "  test do");
  assertStringIncludes(testBlock, "#{bin}/molecule-mcp --version");
  assertStringIncludes(testBlock, "assert_match version.to_s");
});

Deno.test("formula: a missing target in the sums is an error naming every missing tarball", () => {
  const onlyLinux = sampleSums(VERSION, ["x86_64-unknown-linux-gnu", "aarch64-unknown-linux-gnu"]);
  const err = assertThrows(() =>
    renderFormula({ version: VERSION, baseUrl: DEFAULT_BASE_URL, sha256Sums: onlyLinux })
  );
  assertStringIncludes(err.message, tarballName(VERSION, "x86_64-apple-darwin"));
  assertStringIncludes(err.message, tarballName(VERSION, "aarch64-apple-darwin"));
  assert(!err.message.includes("linux-gnu"), err.message);
  assertStringIncludes(err.message, "make compile");
});

Deno.test("formula: sums of another version do not count as this version's tarballs", () => {
  const err = assertThrows(() =>
    renderFormula({ version: VERSION, baseUrl: DEFAULT_BASE_URL, sha256Sums: sampleSums("1.2.2") })
  );
  assertStringIncludes(err.message, "SHA256SUMS has no entry for");
});

Deno.test("formula: a custom base URL (trailing slash or not) is used for every asset", () => {
  const rb = renderFormula({
    version: VERSION,
    baseUrl: "https://downloads.example.com/molecule-mcp/",
    sha256Sums: sampleSums(),
  });
  const urls = [...rb.matchAll(/url "([^"]+)"/g)].map((m) => m[1]);
  assertEquals(urls.length, 4);
  for (const url of urls) {
    assertMatch(url ?? "", /^https:\/\/downloads\.example\.com\/molecule-mcp\/v1\.2\.3\/molecule/);
  }
});

Deno.test("formula: malformed sums, versions and URLs are refused with the value seen", () => {
  const badLine = assertThrows(() => parseSha256Sums("abc123  molecule-mcp.tar.gz\n"));
  assertStringIncludes(badLine.message, "line 1");
  const badVersion = assertThrows(() =>
    renderFormula({ version: "v1.2", baseUrl: DEFAULT_BASE_URL, sha256Sums: sampleSums() })
  );
  assertStringIncludes(badVersion.message, '"v1.2"');
  const plainHttp = assertThrows(() =>
    renderFormula({ version: VERSION, baseUrl: "http://example.com/x", sha256Sums: sampleSums() })
  );
  assertStringIncludes(plainHttp.message, "must use https");
});

Deno.test("formula: sums in binary mode or with a dist/ prefix are read by file name", () => {
  const sums = parseSha256Sums(`${"A".repeat(64)} *dist/molecule-mcp-1.2.3-x.tar.gz\n\n`);
  assertEquals([...sums], [["molecule-mcp-1.2.3-x.tar.gz", "a".repeat(64)]]);
});

Deno.test("formula: the rendered file is valid Ruby when ruby is available", async () => {
  const rb = renderFormula({
    version: VERSION,
    baseUrl: DEFAULT_BASE_URL,
    sha256Sums: sampleSums(),
  });
  // Structural checks run everywhere; the syntax check needs a ruby on PATH.
  assert(rb.endsWith("end\n"));
  assertEquals(rb.match(/\bdo$/gm)?.length, 7); // on_macos, on_linux, 4 × on_arm/on_intel, test
  const opened = rb.match(/^\s*(?:class .+|def .+|.+ do)$/gm)?.length ?? 0;
  assertEquals(rb.match(/^\s*end$/gm)?.length, opened);

  await withTempDir(async (dir) => {
    const path = `${dir}/molecule-mcp.rb`;
    await Deno.writeTextFile(path, rb);
    const ruby = new Deno.Command("ruby", { args: ["-c", path], stdout: "piped", stderr: "piped" });
    let out: Deno.CommandOutput;
    try {
      out = await ruby.output();
    } catch (err) {
      if (err instanceof Deno.errors.NotFound) return; // no ruby here: structure checked above
      throw err;
    }
    const text = new TextDecoder().decode(out.stdout) + new TextDecoder().decode(out.stderr);
    assertEquals(out.code, 0, text);
    assertStringIncludes(text, "Syntax OK");
  });
});

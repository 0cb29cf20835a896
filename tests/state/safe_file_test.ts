import { assertEquals, assertRejects, assertStringIncludes } from "../assert.ts";
import {
  checkStateFile,
  openStateFile,
  readNamedFile,
  readStateFile,
  UnsafeStateFileError,
} from "../../lib/state/safe_file.ts";
import { captureLog } from "../fakes/log_capture.ts";
import { HOSTILE_FILES, makeFifo } from "../fakes/special_files.ts";
import { withTempDir } from "../fakes/temp_dir.ts";

const opts = (log = captureLog().log) => ({ log, widePerms: "tighten" as const, maxBytes: 64 });

async function writePrivate(path: string, text: string): Promise<void> {
  await Deno.writeTextFile(path, text, { mode: 0o600 });
  await Deno.chmod(path, 0o600);
}

Deno.test("state file: a private regular file is read; a missing one is null", async () => {
  await withTempDir(async (dir) => {
    await writePrivate(`${dir}/f`, "hello");
    assertEquals(new TextDecoder().decode((await readStateFile(`${dir}/f`, opts()))!), "hello");
    assertEquals(await readStateFile(`${dir}/missing`, opts()), null);
  });
});

for (const { kind, make } of HOSTILE_FILES) {
  Deno.test(`state file: ${kind} is refused at once, naming the path`, async () => {
    await withTempDir(async (dir) => {
      await make(`${dir}/f`);
      const err = await assertRejects(
        () => readStateFile(`${dir}/f`, opts()),
        UnsafeStateFileError,
      );
      assertStringIncludes(err.message, `State file ${dir}/f is `);
      assertStringIncludes(err.next, `rm ${dir}/f`);
    });
  });
}

Deno.test("state file: a link to another file is refused and the target is neither read nor changed", async () => {
  await withTempDir(async (dir) => {
    await writePrivate(`${dir}/target`, "not yours");
    await Deno.chmod(`${dir}/target`, 0o644);
    await Deno.symlink(`${dir}/target`, `${dir}/f`);
    const err = await assertRejects(
      () => openStateFile(`${dir}/f`, { ...opts(), write: true }),
      UnsafeStateFileError,
    );
    assertEquals(err.reason, "symlink");
    assertEquals(await Deno.readTextFile(`${dir}/target`), "not yours");
    assertEquals((await Deno.stat(`${dir}/target`)).mode! & 0o777, 0o644, "not tightened either");
  });
});

Deno.test("state file: a file owned by another user is refused, naming both user ids", async () => {
  await withTempDir(async (dir) => {
    await writePrivate(`${dir}/f`, "forged");
    const owner = (await Deno.stat(`${dir}/f`)).uid!;
    const err = await assertRejects(
      () => readStateFile(`${dir}/f`, { ...opts(), uid: owner + 1000 }),
      UnsafeStateFileError,
    );
    assertEquals(err.reason, "foreign-owner");
    assertStringIncludes(err.message, `is owned by user id ${owner}, not by you (${owner + 1000})`);
    assertStringIncludes(err.next, "chown");
  });
});

Deno.test("state file: by default the file must have its directory's owner", async () => {
  await withTempDir(async (dir) => {
    await writePrivate(`${dir}/f`, "ok");
    // Same owner as the temp dir: accepted with no uid given.
    assertEquals((await readStateFile(`${dir}/f`, opts()))?.length, 2);
  });
});

Deno.test("state file: group/other bits are tightened to 0600 with a notice naming the file", async () => {
  await withTempDir(async (dir) => {
    await writePrivate(`${dir}/f`, "x");
    await Deno.chmod(`${dir}/f`, 0o666);
    const { log, text } = captureLog();
    await checkStateFile(`${dir}/f`, { log, widePerms: "tighten" });
    assertEquals((await Deno.stat(`${dir}/f`)).mode! & 0o777, 0o600);
    assertStringIncludes(text(), "tightened a state file to mode 0600");
    assertStringIncludes(text(), "was=0666");
  });
});

Deno.test("state file: a file over the bound is refused without reading it whole", async () => {
  await withTempDir(async (dir) => {
    await writePrivate(`${dir}/f`, "x".repeat(65));
    const err = await assertRejects(() => readStateFile(`${dir}/f`, opts()), UnsafeStateFileError);
    assertEquals(err.reason, "too-large");
    assertStringIncludes(err.message, "is larger than 64 bytes");
    await writePrivate(`${dir}/f`, "x".repeat(64));
    assertEquals((await readStateFile(`${dir}/f`, opts()))?.length, 64);
  });
});

Deno.test("named file: links are followed but must end at a regular file (FIFO, /dev/zero refused)", async () => {
  await withTempDir(async (dir) => {
    await writePrivate(`${dir}/real`, "tok");
    await Deno.symlink(`${dir}/real`, `${dir}/link`);
    assertEquals(new TextDecoder().decode(await readNamedFile(`${dir}/link`, 64)), "tok");
    await makeFifo(`${dir}/fifo`);
    const fifo = await assertRejects(() => readNamedFile(`${dir}/fifo`, 64), UnsafeStateFileError);
    assertStringIncludes(fifo.message, "is a FIFO (named pipe), not a regular file");
    await Deno.symlink("/dev/zero", `${dir}/zero`);
    const zero = await assertRejects(() => readNamedFile(`${dir}/zero`, 64), UnsafeStateFileError);
    assertStringIncludes(zero.message, "is a character device, not a regular file");
    await writePrivate(`${dir}/big`, "x".repeat(100));
    await assertRejects(() => readNamedFile(`${dir}/big`, 64), UnsafeStateFileError);
  });
});

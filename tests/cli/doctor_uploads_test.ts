/**
 * doctor's "fetched uploads" check on a temp folder: what an operator reads about where
 * canvas uploads go, whether that folder is safe, and how full it is against the retention.
 */
import { assert, assertEquals, assertStringIncludes } from "../assert.ts";
import { checkUploads, type DoctorUploads } from "../../lib/cli/doctor_uploads.ts";
import { namesIn, withTempDir } from "../fakes/temp_dir.ts";

const ID = "11111111-2222-4333-8444-555555555555";
const DAY_MS = 24 * 60 * 60 * 1000;
const NOW_MS = Date.UTC(2026, 11, 1);

function settings(root: string, more: Partial<DoctorUploads> = {}): DoctorUploads {
  return { root, isRootFromEnv: false, retentionDays: 7, maxBytes: 1024 * 1024 * 1024, ...more };
}

async function ownerOf(path: string): Promise<number | null> {
  return (await Deno.lstat(path)).uid;
}

/** A finished upload of `bytes` bytes whose fetch ended `ageDays` before NOW_MS. */
async function upload(folder: string, name: string, bytes: number, ageDays = 0): Promise<void> {
  const path = `${folder}/${name}`;
  await Deno.writeFile(path, new Uint8Array(bytes), { mode: 0o600 });
  const when = new Date(NOW_MS - ageDays * DAY_MS);
  await Deno.utime(path, when, when);
}

Deno.test("doctor uploads: a folder not made yet is fine, and checking it creates nothing", async () => {
  await withTempDir(async (dir) => {
    const verdict = await checkUploads(ID, settings(`${dir}/uploads`), {
      nowMs: NOW_MS,
      ownerUid: await ownerOf(dir),
    });
    assertEquals(verdict.status, "ok");
    assertStringIncludes(verdict.message, `${dir}/uploads/${ID} (in the state directory)`);
    assertStringIncludes(verdict.message, "none fetched yet");
    assertStringIncludes(verdict.message, "kept 7 day(s) once no queued message mentions them");
    assertStringIncludes(verdict.message, "cap 1024 MiB");
    assertEquals(await namesIn(dir), []);
  });
});

Deno.test("doctor uploads: count and size against the cap, old files, temporary files and foreign entries are reported", async () => {
  await withTempDir(async (dir) => {
    const folder = `${dir}/up/${ID}`;
    await Deno.mkdir(folder, { recursive: true, mode: 0o700 });
    await Deno.chmod(folder, 0o700);
    await upload(folder, "f1-report.pdf", 1024 * 1024);
    await upload(folder, "f2-old.png", 512 * 1024, 10);
    await upload(folder, "f3-x.txt.part-0123abcd", 100);
    await Deno.writeTextFile(`${folder}/notes.txt`, "not ours");
    const verdict = await checkUploads(
      ID,
      settings(`${dir}/up`, { isRootFromEnv: true, maxBytes: 10 * 1024 * 1024 }),
      { nowMs: NOW_MS, ownerUid: await ownerOf(dir) },
    );
    assertEquals(verdict.status, "ok", JSON.stringify(verdict));
    assertStringIncludes(
      verdict.message,
      `${folder} (from MOLECULE_CHAT_UPLOAD_DIR): private folder, 2 file(s), 1.5 MiB of the 10 MiB cap`,
    );
    const details = (verdict.details ?? []).join("\n");
    assertStringIncludes(details, "1 file(s) older than 7 day(s)");
    assertStringIncludes(details, "1 temporary download file(s)");
    assertStringIncludes(details, "1 other entr(ies) left alone");
  });
});

Deno.test("doctor uploads: a folder over MOLECULE_CHAT_UPLOAD_MAX_MB warns by how much, with what to do", async () => {
  await withTempDir(async (dir) => {
    const folder = `${dir}/uploads/${ID}`;
    await Deno.mkdir(folder, { recursive: true, mode: 0o700 });
    await Deno.chmod(folder, 0o700);
    await upload(folder, "f1-a.bin", 3 * 1024 * 1024);
    const verdict = await checkUploads(
      ID,
      settings(`${dir}/uploads`, { maxBytes: 2 * 1024 * 1024 }),
      {
        nowMs: NOW_MS,
        ownerUid: await ownerOf(dir),
      },
    );
    assertEquals(verdict.status, "warn");
    assertStringIncludes(verdict.message, "1 file(s), 3 MiB of the 2 MiB cap");
    assertStringIncludes((verdict.details ?? []).join("\n"), "over the cap by 1 MiB");
    assertStringIncludes(verdict.next ?? "", "MOLECULE_CHAT_UPLOAD_MAX_MB");
  });
});

Deno.test("doctor uploads: a link or a file at the folder's name, or a folder that cannot be read, warns and is not followed", async () => {
  await withTempDir(async (dir) => {
    await Deno.mkdir(`${dir}/uploads`, { mode: 0o700 });
    await Deno.mkdir(`${dir}/elsewhere`);
    await upload(`${dir}/elsewhere`, "f1-big.bin", 3 * 1024 * 1024);
    await Deno.symlink(`${dir}/elsewhere`, `${dir}/uploads/${ID}`);
    const opts = { nowMs: NOW_MS, ownerUid: await ownerOf(dir) };
    const linked = await checkUploads(ID, settings(`${dir}/uploads`, { maxBytes: 1 }), opts);
    assertEquals(linked.status, "warn");
    assertStringIncludes(linked.message, "is a symbolic link");
    assert(!linked.message.includes("MiB of"), "the link's target is never listed");
    assertStringIncludes(linked.next ?? "", `remove ${dir}/uploads/${ID}`);

    await Deno.remove(`${dir}/uploads/${ID}`);
    await Deno.writeTextFile(`${dir}/uploads/${ID}`, "");
    const file = await checkUploads(ID, settings(`${dir}/uploads`), opts);
    assertEquals(file.status, "warn");
    assertStringIncludes(file.message, "is not a folder");

    // A root that is a file: the workspace folder cannot even be looked up.
    await Deno.writeTextFile(`${dir}/root-file`, "");
    const unreadable = await checkUploads(ID, settings(`${dir}/root-file`), opts);
    assertEquals(unreadable.status, "warn");
    assertStringIncludes(unreadable.message, "cannot be read");
    assertStringIncludes(unreadable.next ?? "", "owner and permissions");
  });
});

Deno.test("doctor uploads: a folder open to other users or owned by someone else warns", async () => {
  await withTempDir(async (dir) => {
    const folder = `${dir}/uploads/${ID}`;
    await Deno.mkdir(folder, { recursive: true });
    await Deno.chmod(folder, 0o755);
    const uid = await ownerOf(dir);
    const open = await checkUploads(ID, settings(`${dir}/uploads`), {
      nowMs: NOW_MS,
      ownerUid: uid,
    });
    assertEquals(open.status, "warn");
    assertStringIncludes((open.details ?? []).join("\n"), `chmod 700 ${folder}`);
    assertEquals((await Deno.stat(folder)).mode! & 0o777, 0o755, "doctor only reads");

    await Deno.chmod(folder, 0o700);
    const other = (uid ?? 0) + 1;
    const foreign = await checkUploads(ID, settings(`${dir}/uploads`), {
      nowMs: NOW_MS,
      ownerUid: other,
    });
    assertEquals(foreign.status, "warn");
    assertStringIncludes((foreign.details ?? []).join("\n"), `not by you (${other})`);
  });
});

Deno.test("doctor uploads: both limits 0 say files are kept forever", async () => {
  await withTempDir(async (dir) => {
    const verdict = await checkUploads(
      ID,
      settings(`${dir}/uploads`, { retentionDays: 0, maxBytes: 0 }),
      { nowMs: NOW_MS, ownerUid: null },
    );
    assertEquals(verdict.status, "ok");
    assertStringIncludes(verdict.message, "kept forever");
  });
});

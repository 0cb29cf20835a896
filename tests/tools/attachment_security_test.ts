/**
 * Issue 10 item 10: send_message_to_user attachments are an exfiltration path. These run on
 * the real file system (links, FIFOs, /dev, /proc) with the rig's state directory.
 */
import { assert, assertEquals, assertStringIncludes } from "../assert.ts";
import { memoryFs, type ToolRig, withToolRig } from "../fakes/tool_harness.ts";
import { withTempDir } from "../fakes/temp_dir.ts";
import type { AttachPolicy } from "../../lib/tools/attachment_policy.ts";
import type { AttachmentFs } from "../../lib/tools/attachment_reader.ts";

const realFs: AttachmentFs = {
  realPath: (path) => Deno.realPath(path),
  stat: (path) => Deno.stat(path),
  open: (path) => Deno.open(path, { read: true }),
  readDir: (path) => Deno.readDir(path),
};

/** Sends `attachments`; returns the result text, asserting nothing was uploaded when refused. */
async function send(rig: ToolRig, attachments: string[]) {
  const before = rig.platform.uploads.length;
  const out = await rig.call("send_message_to_user", { message: "here", attachments });
  if (out.isError) assertEquals(rig.platform.uploads.length, before, "nothing uploaded");
  return out;
}

/** A fake HOME with ~/.ssh/id_rsa, ~/.aws/credentials and a project with .env files. */
async function withHome(fn: (home: string) => Promise<void>): Promise<void> {
  await withTempDir(async (home) => {
    await Deno.mkdir(`${home}/.ssh`);
    await Deno.writeTextFile(`${home}/.ssh/id_rsa`, "-----BEGIN OPENSSH PRIVATE KEY-----\n");
    await Deno.mkdir(`${home}/.aws`);
    await Deno.writeTextFile(`${home}/.aws/credentials`, "[default]\n");
    await Deno.mkdir(`${home}/project`);
    await Deno.writeTextFile(`${home}/project/report.txt`, "quarterly numbers");
    await Deno.writeTextFile(`${home}/project/.env`, "STRIPE_KEY=sk_live_x");
    await Deno.writeTextFile(`${home}/project/.env.example`, "STRIPE_KEY=");
    await fn(await Deno.realPath(home));
  });
}

function rigOptions(home: string, policy: Partial<AttachPolicy> = {}) {
  return { attachmentFs: realFs, attachPolicy: { home, ...policy } };
}

Deno.test("send_message_to_user: ~/.ssh/id_rsa and ~/.aws are refused by default with a clear message", async () => {
  await withHome(async (home) => {
    await withToolRig(async (rig) => {
      const out = await send(rig, [`${home}/.ssh/id_rsa`, `${home}/.aws/credentials`]);
      assert(out.isError);
      assertStringIncludes(out.text, "it is inside ~/.ssh, a well-known secret location");
      assertStringIncludes(out.text, "it is inside ~/.aws");
      assert(!out.text.includes("OPENSSH PRIVATE KEY"));
      const ok = await send(rig, [`${home}/project/report.txt`]);
      assertEquals(ok.isError, false, ok.text);
    }, rigOptions(home));
  });
});

Deno.test("send_message_to_user: the state directory's token, secret and inbox files are never sent; its uploads folder is", async () => {
  await withHome(async (home) => {
    await withToolRig(async (rig) => {
      const state = rig.deps.attachPolicy.stateDir;
      const names = [".auth_token", `.platform_inbound_secret.${rig.me.id}`, "journal"];
      for (const name of names) await Deno.writeTextFile(`${state}/${name}`, "secret-ish");
      const out = await send(rig, names.map((n) => `${state}/${n}`));
      assert(out.isError);
      assertEquals(out.text.split("this server's state directory").length - 1, 3, out.text);
      await Deno.mkdir(`${state}/uploads`);
      await Deno.writeTextFile(`${state}/uploads/photo.png`, "png");
      const ok = await send(rig, [`${state}/uploads/photo.png`]);
      assertEquals(ok.isError, false, ok.text);
    }, rigOptions(home));
  });
});

Deno.test("send_message_to_user: a link to a secret is judged by where it leads", async () => {
  await withHome(async (home) => {
    await withToolRig(async (rig) => {
      const state = rig.deps.attachPolicy.stateDir;
      await Deno.writeTextFile(`${state}/.auth_token`, "tok");
      await Deno.symlink(`${home}/.ssh/id_rsa`, `${home}/project/notes.txt`);
      await Deno.symlink(`${state}/.auth_token`, `${home}/project/token.txt`);
      await Deno.symlink("/dev/zero", `${home}/project/zero.bin`);
      const out = await send(rig, [
        `${home}/project/notes.txt`,
        `${home}/project/token.txt`,
        `${home}/project/zero.bin`,
        "/proc/self/environ",
      ]);
      assert(out.isError);
      assertStringIncludes(out.text, `(it leads to ${home}/.ssh/id_rsa): it is inside ~/.ssh`);
      assertStringIncludes(out.text, "token.txt: refused (it leads to");
      assertStringIncludes(
        out.text,
        "zero.bin: refused (it leads to /dev/zero): it is inside /dev",
      );
      assertStringIncludes(out.text, "/proc/self/environ: refused: it is inside /proc");
    }, rigOptions(home));
  });
});

Deno.test("send_message_to_user: .env files and private keys are refused anywhere; .env.example is fine", async () => {
  await withHome(async (home) => {
    await withToolRig(async (rig) => {
      const out = await send(rig, [`${home}/project/.env`]);
      assert(out.isError);
      assertStringIncludes(out.text, "its name (.env) marks a secret file");
      const ok = await send(rig, [`${home}/project/.env.example`]);
      assertEquals(ok.isError, false, ok.text);
    }, rigOptions(home));
  });
});

Deno.test("send_message_to_user: MOLECULE_MCP_ATTACH_ALLOW restricts attachments to its directories, links included", async () => {
  await withHome(async (home) => {
    await withTempDir(async (outside) => {
      await Deno.writeTextFile(`${outside}/elsewhere.txt`, "x");
      await Deno.symlink(`${outside}/elsewhere.txt`, `${home}/project/link.txt`);
      await withToolRig(async (rig) => {
        const ok = await send(rig, [`${home}/project/report.txt`]);
        assertEquals(ok.isError, false, ok.text);
        const out = await send(rig, [`${outside}/elsewhere.txt`, `${home}/project/link.txt`]);
        assert(out.isError);
        assertEquals(
          out.text.split("outside the directories MOLECULE_MCP_ATTACH_ALLOW allows").length - 1,
          2,
          out.text,
        );
      }, rigOptions(home, { allowDirs: [`${home}/project`] }));
    });
  });
});

Deno.test("send_message_to_user: naming a directory inside a secret location in MOLECULE_MCP_ATTACH_ALLOW opts it in", async () => {
  await withHome(async (home) => {
    await Deno.mkdir(`${home}/.aws/reports`);
    await Deno.writeTextFile(`${home}/.aws/reports/bill.csv`, "1,2");
    await withToolRig(async (rig) => {
      const ok = await send(rig, [`${home}/.aws/reports/bill.csv`]);
      assertEquals(ok.isError, false, ok.text);
      const out = await send(rig, [`${home}/.aws/credentials`, `${home}/project/../.ssh/id_rsa`]);
      assert(out.isError);
      assertStringIncludes(out.text, "it is outside the directories");
      assertStringIncludes(out.text, "id_rsa: refused: it is outside the directories");
    }, rigOptions(home, { allowDirs: [`${home}/.aws/reports`, `${home}/project`] }));
  });
});

Deno.test("send_message_to_user: the token file named by MOLECULE_WORKSPACE_TOKEN_FILE is never sent", async () => {
  await withHome(async (home) => {
    await Deno.writeTextFile(`${home}/project/molecule.token`, "tok");
    await withToolRig(async (rig) => {
      const out = await send(rig, [`${home}/project/molecule.token`]);
      assert(out.isError);
      assertStringIncludes(out.text, "it is the token file");
    }, rigOptions(home, { secretFiles: [`${home}/project/molecule.token`] }));
  });
});

Deno.test("send_message_to_user: a FIFO is refused without hanging", async () => {
  await withHome(async (home) => {
    const mkfifo = await new Deno.Command("mkfifo", { args: [`${home}/project/pipe`] }).output();
    assert(mkfifo.success);
    await withToolRig(async (rig) => {
      const out = await send(rig, [`${home}/project/pipe`]);
      assert(out.isError);
      assertStringIncludes(out.text, "not a regular file");
    }, rigOptions(home));
  });
});

Deno.test("send_message_to_user: a file that grows past the cap after the check is read only up to the cap", async () => {
  const MB = 1024 * 1024;
  const reads = { bytes: 0 };
  // fstat says 10 bytes; the content is 30 MB (the file was swapped or grew).
  const fs = memoryFs({ "/work/out/log.txt": new Uint8Array(30 * MB) }, {
    sizes: { "/work/out/log.txt": 10 },
    reads,
  });
  await withToolRig(async (rig) => {
    const out = await send(rig, ["/work/out/log.txt"]);
    assert(out.isError);
    assertStringIncludes(out.text, "over the 25 MB limit per file");
    assertEquals(reads.bytes, 25 * MB + 1);
  }, { attachmentFs: fs });
});

Deno.test("send_message_to_user: a hard link to the token or a state file, anywhere, is refused", async () => {
  await withHome(async (home) => {
    await withTempDir(async (elsewhere) => {
      const tokenFile = `${elsewhere}/token`;
      await Deno.writeTextFile(tokenFile, "tok");
      await withToolRig(async (rig) => {
        const state = rig.deps.attachPolicy.stateDir;
        await Deno.writeTextFile(`${state}/.auth_token`, "tok");
        await Deno.writeTextFile(`${state}/.platform_inbound_secret.${rig.me.id}`, "sec");
        await Deno.link(`${state}/.auth_token`, `${home}/project/notes.txt`);
        await Deno.mkdir(`${state}/uploads`);
        await Deno.link(`${state}/.platform_inbound_secret.${rig.me.id}`, `${state}/uploads/a.png`);
        await Deno.link(tokenFile, `${home}/project/t.txt`);
        for (const name of ["project/notes.txt", "project/t.txt"]) {
          const out = await send(rig, [`${home}/${name}`]);
          assert(out.isError, out.text);
          assertStringIncludes(out.text, "hard link");
        }
        const out = await send(rig, [`${state}/uploads/a.png`]);
        assert(out.isError, out.text);
        assertStringIncludes(out.text, "hard link");
        // A hard link to an ordinary file is fine.
        await Deno.link(`${home}/project/report.txt`, `${home}/project/copy.txt`);
        const ok = await send(rig, [`${home}/project/copy.txt`]);
        assertEquals(ok.isError, false, ok.text);
      }, rigOptions(home, { secretFiles: [tokenFile] }));
    });
  });
});

Deno.test("send_message_to_user: the MCP hosts' own logins and server configs are refused", async () => {
  await withHome(async (home) => {
    const files = [
      ".claude.json",
      ".claude/.credentials.json",
      ".codex/auth.json",
      ".codex/config.toml",
      ".gemini/oauth_creds.json",
      ".cursor/mcp.json",
    ];
    for (const file of files) {
      await Deno.mkdir(`${home}/${file}`.replace(/\/[^/]+$/, ""), { recursive: true });
      await Deno.writeTextFile(`${home}/${file}`, '{"env":{"MOLECULE_WORKSPACE_TOKEN":"tok"}}');
    }
    await withToolRig(async (rig) => {
      for (const file of files) {
        const out = await send(rig, [`${home}/${file}`]);
        assert(out.isError, `${file}: ${out.text}`);
        assertStringIncludes(out.text, `it is inside ~/${file}, a well-known secret location`);
      }
    }, rigOptions(home));
  });
});

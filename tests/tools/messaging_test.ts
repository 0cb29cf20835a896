import { assert, assertEquals, assertStringIncludes } from "../assert.ts";
import { memoryFs, type ToolRig, withToolRig } from "../fakes/tool_harness.ts";

const MB = 1024 * 1024;
const UPLOADS = "POST /workspaces/:id/chat/uploads";
const NOTIFY = "POST /workspaces/:id/notify";

const REPORT = new TextEncoder().encode("%PDF-1.7 quarterly report");
const DATA = new TextEncoder().encode("a,b\n1,2\n");

/** Asserts that neither an upload nor a notify reached the platform. */
function assertNothingSent(rig: ToolRig): void {
  assertEquals(rig.platform.count(UPLOADS), 0, "no upload request");
  assertEquals(rig.platform.count(NOTIFY), 0, "no notify request");
  assertEquals(rig.platform.notifications.length, 0);
}

Deno.test("send_message_to_user: a plain message reaches the user", async () => {
  await withToolRig(async (rig) => {
    const out = await rig.call("send_message_to_user", { message: "Build is green." });
    assertEquals(out, { text: "Message sent to user", isError: false });
    assertEquals(rig.platform.notifications, [
      { workspace_id: rig.me.id, message: "Build is green.", attachments: [] },
    ]);
    const notify = rig.platform.requests.find((r) => r.route === NOTIFY);
    assertEquals(notify?.body, { message: "Build is green." });
    assertEquals(rig.platform.count(UPLOADS), 0);
  });
});

Deno.test("send_message_to_user: attachments are uploaded as files parts, then shown as chips", async () => {
  await withToolRig(async (rig) => {
    const out = await rig.call("send_message_to_user", {
      message: "Here are the results.",
      attachments: ["/work/out/report.pdf", "/work/out/data.csv"],
    });
    assertEquals(out, { text: "Message sent to user with 2 attachment(s)", isError: false });
    const uploads = rig.platform.uploads;
    assertEquals(uploads.map((u) => [u.name, u.mimeType, u.size]), [
      ["report.pdf", "application/pdf", REPORT.length],
      ["data.csv", "text/csv", DATA.length],
    ]);
    assertEquals(uploads[0]?.bytes, REPORT);
    assertEquals(uploads[1]?.bytes, DATA);
    assertEquals(rig.platform.count(UPLOADS), 1, "one multipart request for all files");
    assertEquals(rig.platform.notifications.length, 1);
    assertEquals(
      rig.platform.notifications[0]?.attachments,
      uploads.map((u) => ({ uri: u.uri, name: u.name, mimeType: u.mimeType, size: u.size })),
    );
  }, { files: { "/work/out/report.pdf": REPORT, "/work/out/data.csv": DATA } });
});

Deno.test("send_message_to_user: MIME type follows the extension, any case, else octet-stream", async () => {
  const bytes = new Uint8Array([1, 2, 3]);
  await withToolRig(async (rig) => {
    const out = await rig.call("send_message_to_user", {
      message: "files",
      attachments: ["/tmp/SHOT.PNG", "/tmp/blob.weird", "/tmp/Makefile"],
    });
    assertEquals(out.isError, false);
    assertEquals(rig.platform.uploads.map((u) => u.mimeType), [
      "image/png",
      "application/octet-stream",
      "application/octet-stream",
    ]);
  }, { files: { "/tmp/SHOT.PNG": bytes, "/tmp/blob.weird": bytes, "/tmp/Makefile": bytes } });
});

Deno.test("send_message_to_user: one missing attachment sends nothing at all and names the path", async () => {
  await withToolRig(async (rig) => {
    const out = await rig.call("send_message_to_user", {
      message: "Here you go",
      attachments: ["/work/out/report.pdf", "/work/out/missing.txt"],
    });
    assertEquals(out.isError, true);
    assertStringIncludes(out.text, "Message not sent");
    assertStringIncludes(out.text, "/work/out/missing.txt: no such file");
    assert(!out.text.includes("report.pdf"), "the good file is not blamed");
    assertStringIncludes(out.text, "Next:");
    assertNothingSent(rig);
  }, { files: { "/work/out/report.pdf": REPORT } });
});

Deno.test("send_message_to_user: relative paths are refused, every bad path listed", async () => {
  await withToolRig(async (rig) => {
    const out = await rig.call("send_message_to_user", {
      message: "see files",
      attachments: ["report.pdf", "./data.csv"],
    });
    assertEquals(out.isError, true);
    assertStringIncludes(out.text, '"report.pdf" is not an absolute path');
    assertStringIncludes(out.text, '"./data.csv" is not an absolute path');
    assertNothingSent(rig);
  });
});

Deno.test("send_message_to_user: a file over 25 MB is refused without being read", async () => {
  const reads = { bytes: 0 };
  await withToolRig(async (rig) => {
    const out = await rig.call("send_message_to_user", {
      message: "video",
      attachments: ["/tmp/huge.mp4"],
    });
    assertEquals(out.isError, true);
    assertStringIncludes(out.text, "/tmp/huge.mp4: 25.1 MB, over the 25 MB limit per file");
    assertEquals(reads.bytes, 0);
    assertNothingSent(rig);
  }, { attachmentFs: memoryFs({}, { sizes: { "/tmp/huge.mp4": 25 * MB + 1 }, reads }) });
});

Deno.test("send_message_to_user: attachments over 50 MB together are refused before any is read", async () => {
  const reads = { bytes: 0 };
  const twenty = 20 * MB;
  const sizes = { "/tmp/a.bin": twenty, "/tmp/b.bin": twenty, "/tmp/c.bin": twenty };
  await withToolRig(async (rig) => {
    const out = await rig.call("send_message_to_user", {
      message: "three parts",
      attachments: ["/tmp/a.bin", "/tmp/b.bin", "/tmp/c.bin"],
    });
    assertEquals(out.isError, true);
    assertStringIncludes(out.text, "60.0 MB, over the platform's 50 MB limit");
    assertEquals(reads.bytes, 0, "nothing was read into memory");
    assertNothingSent(rig);
  }, { attachmentFs: memoryFs({}, { sizes, reads }) });
});

Deno.test("send_message_to_user: a directory or an unreadable file is refused", async () => {
  const fs = memoryFs({ "/home/me/": new Uint8Array(0) });
  await withToolRig(async (rig) => {
    const out = await rig.call("send_message_to_user", {
      message: "files",
      attachments: ["/home/me/", "/home/me/secret.txt"],
    });
    assertEquals(out.isError, true);
    assertStringIncludes(out.text, "/home/me/: not a regular file");
    assertStringIncludes(out.text, "/home/me/secret.txt: permission denied");
    assertNothingSent(rig);
  }, {
    attachmentFs: {
      ...fs,
      realPath: (path) =>
        path === "/home/me/secret.txt"
          ? Promise.reject(new Deno.errors.PermissionDenied("denied"))
          : fs.realPath(path),
    },
  });
});

Deno.test("send_message_to_user: a failed upload sends no message", async () => {
  await withToolRig(async (rig) => {
    rig.platform.failNext(UPLOADS, 503);
    const out = await rig.call("send_message_to_user", {
      message: "report attached",
      attachments: ["/work/out/report.pdf"],
    });
    assertEquals(out.isError, true);
    assertStringIncludes(out.text, "Message not sent: uploading the attachments failed");
    assertStringIncludes(out.text, "503");
    assertStringIncludes(out.text, "Next: this platform cannot take attachments");
    assertEquals(rig.platform.count(UPLOADS), 1);
    assertEquals(rig.platform.count(NOTIFY), 0);
  }, { files: { "/work/out/report.pdf": REPORT } });
});

Deno.test("send_message_to_user: chat turned off by an admin says to go through a parent workspace", async () => {
  await withToolRig(async (rig) => {
    rig.platform.updateWorkspace(rig.me.id, { talk_to_user_enabled: false });
    const out = await rig.call("send_message_to_user", { message: "status update" });
    assertEquals(out.isError, true);
    assertStringIncludes(out.text, "talk_to_user_disabled");
    assertStringIncludes(out.text, "parent workspace");
    assertStringIncludes(out.text, "delegate_task");
    assertEquals(rig.platform.notifications.length, 0);
  });
});

Deno.test("send_message_to_user: a failing notify is an error result with a next step", async () => {
  await withToolRig(async (rig) => {
    rig.platform.failNext(NOTIFY, "refused");
    const out = await rig.call("send_message_to_user", { message: "hello" });
    assertEquals(out.isError, true);
    assertStringIncludes(out.text, "POST /workspaces/:id/notify");
    assertStringIncludes(out.text, "Next:");
  });
});

Deno.test("send_message_to_user: a blank or missing message is refused before any request", async () => {
  await withToolRig(async (rig) => {
    const blank = await rig.call("send_message_to_user", { message: " \n\t" });
    assertEquals(blank.isError, true);
    assertStringIncludes(blank.text, "message is empty");
    const missing = await rig.call("send_message_to_user", { attachments: [] });
    assertEquals(missing.isError, true);
    assertStringIncludes(missing.text, "message is required");
    const wrongType = await rig.call("send_message_to_user", { message: "x", attachments: [7] });
    assertEquals(wrongType.isError, true);
    assertStringIncludes(wrongType.text, "attachments[0] must be a string");
    assertEquals(rig.platform.requests.length, 0);
  });
});

Deno.test("send_message_to_user: empty attachment entries are ignored", async () => {
  await withToolRig(async (rig) => {
    const out = await rig.call("send_message_to_user", { message: "hi", attachments: ["", "  "] });
    assertEquals(out, { text: "Message sent to user", isError: false });
    assertEquals(rig.platform.count(UPLOADS), 0);
    assertEquals(rig.platform.notifications.length, 1);
  });
});

Deno.test("send_message_to_user: already-uploaded attachments are sent by reference, in order, not re-uploaded", async () => {
  await withToolRig(async (rig) => {
    const out = await rig.call("send_message_to_user", {
      message: "Here you go.",
      attachments: [
        { uri: "workspace:/workspace/a.png", name: "a.png", mime_type: "image/png", size: 10 },
        "/work/out/report.pdf",
        { uri: "platform-pending:ws/f1", name: "b.txt", mimeType: "text/plain" },
      ],
    });
    assertEquals(out, { text: "Message sent to user with 3 attachment(s)", isError: false });
    assertEquals(rig.platform.uploads.map((u) => u.name), ["report.pdf"], "only the path uploaded");
    const upload = rig.platform.uploads[0];
    assertEquals(rig.platform.notifications[0]?.attachments, [
      { uri: "workspace:/workspace/a.png", name: "a.png", mimeType: "image/png", size: 10 },
      { uri: upload?.uri, name: "report.pdf", mimeType: "application/pdf", size: REPORT.length },
      { uri: "platform-pending:ws/f1", name: "b.txt", mimeType: "text/plain" },
    ]);
  }, { files: { "/work/out/report.pdf": REPORT } });
});

Deno.test("send_message_to_user: a file:// URI or an object with a path is uploaded like a path", async () => {
  await withToolRig(async (rig) => {
    const out = await rig.call("send_message_to_user", {
      message: "Files.",
      attachments: ["file:///work/out/report.pdf", { path: "/work/out/data.csv" }],
    });
    assertEquals(out.isError, false);
    assertEquals(rig.platform.uploads.map((u) => u.name), ["report.pdf", "data.csv"]);
  }, { files: { "/work/out/report.pdf": REPORT, "/work/out/data.csv": DATA } });
});

Deno.test("send_message_to_user: a reference without a name, or an object without uri or path, sends nothing", async () => {
  await withToolRig(async (rig) => {
    for (const bad of [{ uri: "workspace:/x" }, { name: "x.txt" }, 42]) {
      const out = await rig.call("send_message_to_user", { message: "x", attachments: [bad] });
      assertEquals(out.isError, true, JSON.stringify(bad));
      assertStringIncludes(out.text, "attachments[0]");
    }
    assertNothingSent(rig);
  });
});

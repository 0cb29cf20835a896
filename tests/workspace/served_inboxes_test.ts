/** The served workspaces' inboxes as each link's upload retention reads them. */
import { assertEquals } from "../assert.ts";
import type { InboxMessage } from "../../lib/inbox/message.ts";
import { ServedInboxes } from "../../lib/workspace/served_inboxes.ts";

function queued(...texts: string[]) {
  const messages = texts.map((text) => ({ text } as Pick<InboxMessage, "text">));
  return { pendingMessages: () => messages as InboxMessage[] };
}

Deno.test("served inboxes: the others' queued messages are known once every served inbox has opened", async () => {
  const inboxes = new ServedInboxes(3);
  const opening = Promise.withResolvers<void>();
  inboxes.add("a", { inbox: queued("for a"), inboxOpened: Promise.resolve() });
  assertEquals(inboxes.othersOf("a"), null, "b and c not added yet");
  inboxes.add("b", { inbox: queued("for b 1", "for b 2"), inboxOpened: Promise.resolve() });
  inboxes.add("c", { inbox: null, inboxOpened: opening.promise }); // another process holds it
  await Promise.resolve();
  assertEquals(inboxes.othersOf("a"), null, "c is still opening");
  opening.resolve();
  await opening.promise;
  await Promise.resolve();
  assertEquals([...inboxes.othersOf("a") ?? []].map((m) => m.text), ["for b 1", "for b 2"]);
  assertEquals([...inboxes.othersOf("b") ?? []].map((m) => m.text), ["for a"]);
});

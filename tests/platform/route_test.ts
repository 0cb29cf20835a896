/**
 * platformRoute: the one place an endpoint's name (in errors and logs) and its real path are
 * made, from one "METHOD /template" string.
 */
import { assert, assertEquals, assertStringIncludes, assertThrows } from "../assert.ts";
import { platformRoute } from "../../lib/platform/route.ts";

/** `fn` throws a TypeError whose message includes `text`. */
function assertTypeError(fn: () => unknown, text: string): void {
  const err = assertThrows(fn);
  assert(err instanceof TypeError, `${err.name}: ${err.message}`);
  assertStringIncludes(err.message, text);
}

const WS = "11111111-2222-4333-8444-555555555555";

Deno.test("platform route: errors name the template while the request goes to the filled path", () => {
  assertEquals(
    platformRoute("POST /workspaces/:id/pending-uploads/:file_id/ack", {
      id: WS,
      file_id: "f_1-a",
    }),
    {
      method: "POST",
      template: "/workspaces/:id/pending-uploads/:file_id/ack",
      path: `/workspaces/${WS}/pending-uploads/f_1-a/ack`,
      endpoint: "POST /workspaces/:id/pending-uploads/:file_id/ack",
    },
  );
  assertEquals(platformRoute("GET /uploads/limits").path, "/uploads/limits");
});

Deno.test("platform route: a value that would change the route (slash, dot-dot, query, escape) is refused, not sent", () => {
  for (const bad of ["a/b", "..", "x?y=1", "x#y", "%2e%2e", "", "a b"]) {
    assertTypeError(() => platformRoute("GET /workspaces/:id", { id: bad }), "plain path segment");
  }
});

Deno.test("platform route: a placeholder without a value, or a value without a placeholder, is a bug caught at once", () => {
  assertTypeError(() => platformRoute("GET /registry/:id/peers"), "needs a value for :id");
  assertTypeError(() => platformRoute("GET /uploads/limits", { id: WS }), "has no :id");
});

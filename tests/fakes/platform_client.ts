/**
 * The platform client a test's code under test talks through: acting as one workspace of the
 * in-process fake platform (tests/fakes/fake_platform.ts), at the URL http://platform.test.
 */
import { createPlatformClient, type PlatformClient } from "../../lib/platform/client.ts";
import type { PlatformDeps } from "../../lib/platform/http.ts";

/** The base URL in-process tests give the client; the fake's fetch never resolves it. */
export const TEST_PLATFORM_URL = "http://platform.test";

/** A client acting as `ws` (its id and token); `deps.fetch` is usually the fake's fetch. */
export function clientAs(ws: { id: string; token: string }, deps: PlatformDeps): PlatformClient {
  return createPlatformClient(
    { platformUrl: TEST_PLATFORM_URL, workspaceId: ws.id, token: ws.token },
    deps,
  );
}

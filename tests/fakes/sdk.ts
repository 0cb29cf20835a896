/**
 * The official MCP SDK pieces tests use: the real Client checks every protocol claim we make.
 * Shipped code never imports this file (it takes only `import type` from the SDK). Paths use
 * the package's export names (no `.js`) so Deno resolves their type declarations.
 */
export { Client } from "@modelcontextprotocol/sdk/client";
// @ts-types="@modelcontextprotocol/sdk/inMemory"
export { InMemoryTransport } from "@modelcontextprotocol/sdk/inMemory.js";
export { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
export { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
export type { Transport } from "@modelcontextprotocol/sdk/shared/transport";
export type { JSONRPCMessage } from "@modelcontextprotocol/sdk/types";

/**
 * The official MCP SDK pieces tests use: the real Client checks every protocol claim we make.
 * Shipped code never imports this file (it takes only `import type` from the SDK).
 */
export { Client } from "@modelcontextprotocol/sdk/client/index.js";
export { InMemoryTransport } from "@modelcontextprotocol/sdk/inMemory.js";
export { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
export type { Transport } from "@modelcontextprotocol/sdk/shared/transport.js";
export type { JSONRPCMessage } from "@modelcontextprotocol/sdk/types.js";

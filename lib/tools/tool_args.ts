/**
 * What the tools that post something share: the annotations of a call that sends once to the
 * platform, and reading a text argument (required: not blank; optional: blank counts as
 * absent), with a failure result that says what to write.
 */
import { type ToolAnnotations, toolError, type ToolResult } from "../mcp/tool_spec.ts";

/**
 * Annotations of a tool that posts something new to the platform (a message, a memory, a
 * request): changes state, destroys nothing, and a repeated call posts it again.
 */
export const POSTS_TO_PLATFORM: ToolAnnotations = {
  readOnlyHint: false,
  destructiveHint: false,
  idempotentHint: false,
  openWorldHint: true,
};

/** A required text argument as given (not trimmed), or the isError result to return instead. */
export type TextArg = { ok: true; text: string } | { ok: false; result: ToolResult };

/**
 * Reads the tool argument `name` as required text: anything but a string with a non-blank
 * character is refused as "<name> is empty", with `next` saying what to write.
 */
export function readRequiredText(raw: unknown, name: string, next: string): TextArg {
  const text = typeof raw === "string" ? raw : "";
  if (text.trim() === "") return { ok: false, result: toolError(`${name} is empty`, next) };
  return { ok: true, text };
}

/** Reads an optional text argument: the string as given, or undefined when absent or blank. */
export function readOptionalText(raw: unknown): string | undefined {
  return typeof raw === "string" && raw.trim() !== "" ? raw : undefined;
}

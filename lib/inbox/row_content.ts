/**
 * What a row carries besides its text: who sent it as the platform joined it
 * (`include=peer_info`: peer_name, peer_role, agent_card_url; upstream-latest §2 A), the canvas
 * user's identity from the A2A metadata (§2 H), and its attachments (upstream R3): the row's
 * own `attachments[]`, else the A2A file parts, else the flat upload manifest of a
 * `chat_upload_receive` row. Pure; every value is checked, cut and sanitised before it may
 * reach the journal.
 */
import { isRecord } from "../json_object.ts";
import { cutCodePoints, ELLIPSIS, sanitiseText } from "../text.ts";
import { parseUuid } from "../uuid.ts";
import type { ActivityRow } from "./activity_row.ts";
import {
  type AttachmentKind,
  checkAttachment,
  isMimeType,
  isSafeUri,
  MAX_ATTACHMENTS,
  MAX_LABEL_CHARS,
  type MessageAttachment,
  type MessageExtras,
} from "./message.ts";

/** The optional message fields of `row`, whose sender is `peerId` ("" for none). */
export function rowExtras(row: ActivityRow, peerId: string): MessageExtras {
  const extras: MessageExtras = {};
  if (peerId !== "") {
    const name = label(row.peer_name);
    const role = label(row.peer_role);
    if (name !== "") extras.peer_name = name;
    if (role !== "") extras.peer_role = role;
    const card = cardUrl(row.agent_card_url, peerId);
    if (card !== null) extras.agent_card_url = card;
  }
  const user = canvasUser(row.request_body);
  if (user.id !== "") extras.user_id = user.id;
  if (user.name !== "") extras.user_name = user.name;
  const attachments = rowAttachments(row);
  if (attachments.length > 0) extras.attachments = attachments;
  return extras;
}

/** One line of someone else's text, sanitised and cut; "" when nothing is left. */
function label(raw: string): string {
  return cutCodePoints(sanitiseText(raw, { oneLine: true }).trim(), MAX_LABEL_CHARS, ELLIPSIS);
}

/**
 * The platform's agent card URL, kept only in the one shape it builds:
 * `http(s)://<host>/registry/discover/<peerId>` without credentials, query or fragment.
 */
function cardUrl(raw: string, peerId: string): string | null {
  if (!isSafeUri(raw)) return null;
  const url = URL.parse(raw);
  if (url === null) return null;
  const isPlain = (url.protocol === "https:" || url.protocol === "http:") &&
    url.username === "" && url.password === "" && url.search === "" && url.hash === "";
  const tail = `/registry/discover/${peerId}`;
  if (!isPlain || !url.pathname.endsWith(tail)) return null;
  const id = url.pathname.slice(-peerId.length);
  return parseUuid(id) === peerId ? url.href : null;
}

/** `params.metadata.{user_id, username}` of a canvas user's message (§2 H). */
function canvasUser(body: Record<string, unknown> | null): { id: string; name: string } {
  const params = body?.["params"];
  const metadata = isRecord(params) ? params["metadata"] : undefined;
  if (!isRecord(metadata)) return { id: "", name: "" };
  const id = typeof metadata["user_id"] === "string" ? label(metadata["user_id"]) : "";
  const name = typeof metadata["username"] === "string" ? label(metadata["username"]) : "";
  return { id, name };
}

/** The attachments, first source that has any (see the module comment). */
export function rowAttachments(row: ActivityRow): MessageAttachment[] {
  const fromRow = Array.isArray(row.attachments)
    ? row.attachments.map(fromRowEntry).filter((a) => a !== null)
    : [];
  if (fromRow.length > 0) return fromRow.slice(0, MAX_ATTACHMENTS);
  const fromParts = fileParts(row.request_body).map(fromPart).filter((a) => a !== null);
  if (fromParts.length > 0) return fromParts.slice(0, MAX_ATTACHMENTS);
  const manifest = fromManifest(row.request_body);
  return manifest === null ? [] : [manifest];
}

/** A row `attachments[]` entry `{kind, uri, mime_type?, name?}`; entries need a string kind. */
function fromRowEntry(raw: unknown): MessageAttachment | null {
  if (!isRecord(raw) || typeof raw["kind"] !== "string") return null;
  return checked({
    kind: raw["kind"],
    uri: raw["uri"],
    name: raw["name"],
    mime: raw["mime_type"] ?? raw["mimeType"],
    size: raw["size"],
  });
}

function fileParts(body: Record<string, unknown> | null): unknown[] {
  const params = body?.["params"];
  const message = isRecord(params) ? params["message"] : undefined;
  const parts = isRecord(message) ? message["parts"] : undefined;
  return Array.isArray(parts) ? parts : [];
}

/**
 * An A2A part of kind (or v0 type) file, image or audio: `{kind, file:{uri, mimeType|mime_type,
 * name}}` or the same fields inlined. A part with neither uri nor name is dropped.
 */
function fromPart(part: unknown): MessageAttachment | null {
  if (!isRecord(part)) return null;
  const discriminator = part["kind"] ?? part["type"];
  if (discriminator !== "file" && discriminator !== "image" && discriminator !== "audio") {
    return null;
  }
  const file = isRecord(part["file"]) ? part["file"] : part;
  const mime = file["mimeType"] ?? file["mime_type"];
  const kind = discriminator === "file" ? kindOfMime(mime) : discriminator;
  return checked({ kind, uri: file["uri"], name: file["name"], mime, size: file["size"] });
}

/** The flat upload manifest `{file_id, name, mimeType, size, uri}` (contract §16). */
function fromManifest(body: Record<string, unknown> | null): MessageAttachment | null {
  if (body === null || typeof body["file_id"] !== "string") return null;
  const mime = body["mimeType"] ?? body["mime_type"];
  return checked({
    kind: kindOfMime(mime),
    uri: body["uri"],
    name: body["name"],
    mime,
    size: body["size"],
  });
}

/** The kind a MIME type implies: image/, audio/, video/, else file. */
export function kindOfMime(mime: unknown): AttachmentKind {
  if (typeof mime !== "string") return "file";
  for (const kind of ["image", "audio", "video"] as const) {
    if (mime.toLowerCase().startsWith(`${kind}/`)) return kind;
  }
  return "file";
}

function checked(
  fields: { kind: unknown; uri: unknown; name: unknown; mime: unknown; size: unknown },
): MessageAttachment | null {
  const name = typeof fields.name === "string" ? label(fields.name) : "";
  return checkAttachment({
    kind: fields.kind,
    uri: fields.uri,
    ...(name === "" ? {} : { name }),
    ...(isMimeType(fields.mime) ? { mime_type: fields.mime } : {}),
    size: fields.size,
  });
}
